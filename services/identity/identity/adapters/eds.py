"""Login with a digital signature (ЭЦП) made with an AUTH certificate of the national CA.

The server issues a nonce; the client signs its UTF-8 bytes, either as a raw signature (RSA
PKCS#1 v1.5 + SHA-256, base64) sent with the certificate (PEM, optionally followed by
intermediates): ``EdsVerifier.verify``; or as the CMS (CAdES-BES) that NCALayer's
``createCAdESFromBase64`` returns, attached or detached, with the signer's certificate embedded
(base64 DER): ``EdsVerifier.verify_cms`` (adapters/cms.py reads it). Either accepts the login
only if the signature is valid, the
certificate chains to one of the configured roots, every certificate in the chain is valid
at ``now``, the leaf is fit for authentication, it is not revoked (when CRLs are configured)
and its subject carries an IIN.

Chain building and signature checks of the chain are done by
``cryptography.x509.verification``; the checks on the leaf are done here first so that each
failure gets its own error code.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from identity.adapters import cms

log = logging.getLogger(__name__)

BAD_CERTIFICATE = "eds_bad_certificate"
BAD_SIGNATURE = "eds_bad_signature"
UNTRUSTED = "eds_untrusted"
EXPIRED = "eds_expired"
KEY_USAGE = "eds_key_usage"
REVOKED = "eds_revoked"
NO_IIN = "eds_no_iin"
BAD_CMS = "eds_bad_cms"

MAX_CERTIFICATE_PEM_BYTES = 64 * 1024
MAX_CERTIFICATES = 5
# An RSA-8192 signature is 1368 base64 characters; anything longer is not a signature.
MAX_SIGNATURE_B64_CHARS = 2048
# A CMS with a signer's certificate and a few CA certificates (base64 of cms.MAX_BYTES).
MAX_CMS_B64_CHARS = 65536
MIN_RSA_BITS = 2048

_PEM_CERT_BEGIN = "-----BEGIN CERTIFICATE-----"
_PEM_CRL = re.compile(rb"-----BEGIN X509 CRL-----.+?-----END X509 CRL-----", re.DOTALL)
# [0-9], not \d: \d also matches non-ASCII digits.
_IIN = re.compile(r"IIN([0-9]{12})")
_BIN = re.compile(r"BIN([0-9]{12})")
# Readable names for the attributes of the national CA's subjects (RFC 4514 knows only a few).
_SUBJECT_NAMES = {
    NameOID.SERIAL_NUMBER: "SERIALNUMBER",
    NameOID.SURNAME: "SURNAME",
    NameOID.GIVEN_NAME: "GIVENNAME",
    NameOID.EMAIL_ADDRESS: "E",
}
_SIGNATURE_CHECK_ERRORS = (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError)


class EdsError(Exception):
    """A rejected signature login; ``code`` is a stable machine code for API errors."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class EdsIdentity:
    iin: str
    bin: str | None
    subject: str
    serial_number: int
    not_after: datetime


class EdsVerifier:
    """Verifies signature logins against a trusted CA bundle and, optionally, CRL files.

    The files are read once, here; build a new verifier to pick up updated files (a CRL
    past its nextUpdate makes every login from that CA fail with ``eds_revoked``).
    """

    def __init__(self, trusted_ca_file: str, crl_files: list[str] | None = None) -> None:
        roots, intermediates = _load_bundle(Path(trusted_ca_file))
        self._roots = roots
        # Only self-signed roots are trust anchors: an intermediate in the bundle is a
        # path-building hint and must itself chain to a root (and be valid, and not revoked).
        self._bundle_intermediates = intermediates
        self._store = Store(roots)
        self._crls: list[x509.CertificateRevocationList] = []
        for name in crl_files or []:
            self._crls.extend(_load_crls(Path(name)))
        self._crl_authentic: dict[tuple[int, bytes], bool] = {}

    def verify(
        self,
        certificate_pem: str,
        signature_b64: str,
        nonce: str,
        now: datetime | None = None,
    ) -> EdsIdentity:
        now = _utc(now)
        _check_nonce(nonce)
        leaf, supplied = _parse_certificates(certificate_pem)
        signature = _decode_signature(signature_b64)
        public_key = _rsa_key(leaf)
        try:
            public_key.verify(signature, nonce.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise EdsError(BAD_SIGNATURE, "the signature does not match the nonce") from None
        return self._accept(leaf, supplied, now)

    def verify_cms(self, cms_b64: str, nonce: str, now: datetime | None = None) -> EdsIdentity:
        """A CMS (CAdES-BES) signature of the nonce's UTF-8 bytes, attached or detached, with
        the signer's certificate embedded (and perhaps its CA certificates)."""
        now = _utc(now)
        _check_nonce(nonce)
        try:
            signed = cms.parse(_decode_cms(cms_b64))
            leaf, supplied = cms.signer_certificate(signed)
            public_key = _rsa_key(leaf)
            cms.verify_signer(signed, public_key, nonce.encode("utf-8"))
        except cms.CmsError as exc:
            raise EdsError(exc.code, str(exc)) from None
        return self._accept(leaf, supplied, now)

    def _accept(
        self, leaf: x509.Certificate, supplied: list[x509.Certificate], now: datetime
    ) -> EdsIdentity:
        """The checks on a certificate whose key made a valid signature: dates, key usage, the
        chain to a trusted root, revocation, and the IIN in its subject."""
        if not _valid_at(leaf, now):
            raise EdsError(EXPIRED, "the certificate is expired or not yet valid")
        _check_leaf_usage(leaf)
        chain = self._build_chain(leaf, supplied, now)
        self._check_revocation(chain, now)
        iin, bin_ = _identity_numbers(leaf)
        return EdsIdentity(
            iin=iin,
            bin=bin_,
            subject=leaf.subject.rfc4514_string(_SUBJECT_NAMES),
            serial_number=leaf.serial_number,
            not_after=leaf.not_valid_after_utc,
        )

    def _build_chain(
        self, leaf: x509.Certificate, supplied: list[x509.Certificate], now: datetime
    ) -> list[x509.Certificate]:
        candidates = supplied + self._bundle_intermediates
        verifier = (
            PolicyBuilder()
            .store(self._store)
            .time(now)
            .extension_policies(ca_policy=_CA_POLICY, ee_policy=_EE_POLICY)
            .build_client_verifier()
        )
        try:
            chain = verifier.verify(leaf, candidates).chain
        except (VerificationError, ValueError) as exc:
            if self._expired_issuer_on_path(leaf, candidates, now):
                raise EdsError(
                    EXPIRED, "a CA certificate in the chain is expired or not yet valid"
                ) from None
            raise EdsError(
                UNTRUSTED, f"the certificate does not chain to a trusted root: {exc}"
            ) from None
        if len(chain) < 2:
            # The leaf is itself a trust anchor; a root is never a login certificate.
            raise EdsError(UNTRUSTED, "a CA certificate cannot be used to log in")
        return chain

    def _expired_issuer_on_path(
        self, leaf: x509.Certificate, candidates: list[x509.Certificate], now: datetime
    ) -> bool:
        """Whether the failure is explained by an out-of-date CA on a path to a root.

        Only picks the error code: the verification has already failed either way.
        """
        pool = candidates + self._roots
        seen: set[bytes] = set()
        frontier = [leaf]
        for _ in range(MAX_CERTIFICATES + len(pool)):
            following = []
            for child in frontier:
                for issuer in pool:
                    fingerprint = issuer.fingerprint(hashes.SHA256())
                    if fingerprint in seen or issuer.subject != child.issuer:
                        continue
                    try:
                        child.verify_directly_issued_by(issuer)
                    except _SIGNATURE_CHECK_ERRORS:
                        continue
                    if not _valid_at(issuer, now):
                        return True
                    seen.add(fingerprint)
                    following.append(issuer)
            if not following:
                break
            frontier = following
        return False

    def _check_revocation(self, chain: list[x509.Certificate], now: datetime) -> None:
        if not self._crls:
            return
        # The last certificate is the trust anchor: it is trusted by configuration.
        for position in range(len(chain) - 1):
            cert, issuer = chain[position], chain[position + 1]
            crls = [crl for crl in self._crls if self._issued_by(crl, issuer)]
            if not crls:
                if position == 0:
                    # Fail closed: with CRLs configured, an unknown status is not "good".
                    raise EdsError(REVOKED, "no CRL of the issuing CA is configured")
                continue
            if not all(_crl_current(crl, now) for crl in crls):
                raise EdsError(REVOKED, "the CRL of the issuing CA is out of date")
            if position == 0 and not any(_crl_complete(crl) for crl in crls):
                raise EdsError(REVOKED, "no complete CRL of the issuing CA is configured")
            for crl in crls:
                entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
                if entry is not None and not _removed_from_crl(entry):
                    who = "the certificate" if position == 0 else "a CA certificate in the chain"
                    raise EdsError(REVOKED, f"{who} is revoked")

    def _issued_by(self, crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
        if crl.issuer != issuer.subject or not _may_sign_crls(issuer):
            return False
        key = (
            id(crl),
            issuer.public_key().public_bytes(
                serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
        )
        authentic = self._crl_authentic.get(key)
        if authentic is None:
            try:
                authentic = crl.is_signature_valid(issuer.public_key())
            except (TypeError, ValueError, UnsupportedAlgorithm):
                authentic = False
            self._crl_authentic[key] = authentic
        return authentic


def _ca_basic_constraints(_policy, _cert, value: x509.BasicConstraints) -> None:
    if not value.ca:
        raise ValueError("an issuer must be a CA (basicConstraints CA:TRUE)")


def _ca_key_usage(_policy, _cert, value: x509.KeyUsage | None) -> None:
    if value is not None and not value.key_cert_sign:
        raise ValueError("an issuer's key usage must allow keyCertSign")


# The web PKI defaults demand what the national CA's certificates need not have (a SAN in
# the leaf, exact criticality); these policies ask what RFC 5280 asks of issuers. Leaf key
# usage is checked by _check_leaf_usage. Unknown critical extensions are still rejected.
_CA_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.BasicConstraints, Criticality.AGNOSTIC, _ca_basic_constraints)
    .may_be_present(x509.KeyUsage, Criticality.AGNOSTIC, _ca_key_usage)
)
_EE_POLICY = ExtensionPolicy.permit_all()


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        return now.replace(tzinfo=UTC)
    return now.astimezone(UTC)


def _valid_at(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _load_bundle(path: Path) -> tuple[list[x509.Certificate], list[x509.Certificate]]:
    try:
        certs = x509.load_pem_x509_certificates(path.read_bytes())
    except ValueError as exc:
        raise ValueError(f"{path}: not a PEM certificate bundle: {exc}") from None
    roots, intermediates = [], []
    for cert in certs:
        (roots if _self_signed(cert) else intermediates).append(cert)
    if not roots:
        raise ValueError(f"{path}: no self-signed root certificate in the trusted bundle")
    return roots, intermediates


def _self_signed(cert: x509.Certificate) -> bool:
    if cert.subject != cert.issuer:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except _SIGNATURE_CHECK_ERRORS:
        return False
    return True


def _load_crls(path: Path) -> list[x509.CertificateRevocationList]:
    data = path.read_bytes()
    try:
        if b"-----BEGIN" in data:
            blocks = _PEM_CRL.findall(data)
            if not blocks:
                raise ValueError("no X509 CRL block")
            crls = [x509.load_pem_x509_crl(block) for block in blocks]
        else:
            crls = [x509.load_der_x509_crl(data)]
        for crl in crls:
            _ = crl.extensions  # parse now: a broken CRL is a configuration error
    except ValueError as exc:
        raise ValueError(f"{path}: not a CRL: {exc}") from None
    return crls


def _parse_certificates(pem: str) -> tuple[x509.Certificate, list[x509.Certificate]]:
    if not isinstance(pem, str):
        raise EdsError(BAD_CERTIFICATE, "the certificate must be PEM text")
    data = pem.encode("utf-8", errors="replace")
    if len(data) > MAX_CERTIFICATE_PEM_BYTES:
        raise EdsError(BAD_CERTIFICATE, "the certificate PEM is too large")
    if pem.count(_PEM_CERT_BEGIN) > MAX_CERTIFICATES:
        raise EdsError(BAD_CERTIFICATE, "too many certificates")
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise EdsError(BAD_CERTIFICATE, "the certificate is not valid PEM") from None
    if len(certs) > MAX_CERTIFICATES:
        raise EdsError(BAD_CERTIFICATE, "too many certificates")
    return certs[0], certs[1:]


def _check_nonce(nonce: str) -> None:
    if not isinstance(nonce, str) or not nonce:
        raise EdsError(BAD_SIGNATURE, "the nonce is empty")


def _rsa_key(leaf: x509.Certificate) -> rsa.RSAPublicKey:
    try:
        public_key = leaf.public_key()
    except (ValueError, UnsupportedAlgorithm):
        public_key = None
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise EdsError(BAD_CERTIFICATE, "the certificate does not hold an RSA key")
    if public_key.key_size < MIN_RSA_BITS:
        raise EdsError(BAD_CERTIFICATE, "the certificate's RSA key is too short")
    return public_key


def _decode_cms(text: str) -> bytes:
    """Base64 of the DER (or BER) CMS; NCALayer may break it into lines."""
    if not isinstance(text, str):
        raise EdsError(BAD_CMS, "the CMS must be base64 text")
    compact = "".join(text.split())
    if not compact or len(compact) > MAX_CMS_B64_CHARS:
        raise EdsError(BAD_CMS, "the CMS is empty or too long")
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise EdsError(BAD_CMS, "the CMS is not valid base64") from None


def _decode_signature(text: str) -> bytes:
    if not isinstance(text, str):
        raise EdsError(BAD_SIGNATURE, "the signature must be base64 text")
    text = text.strip()
    if not text or len(text) > MAX_SIGNATURE_B64_CHARS:
        raise EdsError(BAD_SIGNATURE, "the signature is empty or too long")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise EdsError(BAD_SIGNATURE, "the signature is not valid base64") from None
    # validate=True still accepts non-zero padding bits; one value, one encoding.
    if base64.b64encode(raw).decode("ascii") != text:
        raise EdsError(BAD_SIGNATURE, "the signature is not canonical base64")
    return raw


def _check_leaf_usage(leaf: x509.Certificate) -> None:
    try:
        extensions = leaf.extensions
    except ValueError as exc:
        raise EdsError(BAD_CERTIFICATE, f"the certificate has bad extensions: {exc}") from None
    try:
        basic = extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        basic = None
    if basic is not None and basic.ca:
        raise EdsError(KEY_USAGE, "a CA certificate cannot be used to log in")
    try:
        key_usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise EdsError(KEY_USAGE, "the certificate has no key usage") from None
    if not key_usage.digital_signature:
        raise EdsError(KEY_USAGE, "the certificate's key usage lacks digitalSignature")
    try:
        eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.CLIENT_AUTH not in eku:
        raise EdsError(KEY_USAGE, "the certificate is not for client authentication")


def _identity_numbers(leaf: x509.Certificate) -> tuple[str, str | None]:
    iins = {
        match.group(1)
        for attr in leaf.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)
        if isinstance(attr.value, str) and (match := _IIN.fullmatch(attr.value))
    }
    if len(iins) != 1:
        raise EdsError(NO_IIN, "the certificate subject has no single SERIALNUMBER=IIN...")
    bins = {
        match.group(1)
        for attr in leaf.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        if isinstance(attr.value, str) and (match := _BIN.fullmatch(attr.value))
    }
    if len(bins) > 1:
        raise EdsError(BAD_CERTIFICATE, "the certificate subject has several BINs")
    return iins.pop(), (bins.pop() if bins else None)


def _may_sign_crls(issuer: x509.Certificate) -> bool:
    try:
        key_usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return True
    return key_usage.crl_sign


def _crl_current(crl: x509.CertificateRevocationList, now: datetime) -> bool:
    next_update = crl.next_update_utc
    return next_update is not None and crl.last_update_utc <= now <= next_update


def _crl_complete(crl: x509.CertificateRevocationList) -> bool:
    """A full CRL for end-entity certificates: not a delta, not a partial one."""
    try:
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
        return False
    except x509.ExtensionNotFound:
        pass
    try:
        idp = crl.extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        return True
    return not (
        idp.only_contains_ca_certs
        or idp.only_contains_attribute_certs
        or idp.only_some_reasons
        or idp.indirect_crl
    )


def _removed_from_crl(entry: x509.RevokedCertificate) -> bool:
    try:
        reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except (x509.ExtensionNotFound, ValueError):
        return False
    return reason == x509.ReasonFlags.remove_from_crl


class ReloadingEdsVerifier:
    """An EdsVerifier that reloads when its files change: the national CA publishes a new CRL
    about daily, and a verifier holding yesterday's would refuse every signature."""

    def __init__(self, trusted_ca_file: str, crl_files: list[str] | None = None,
                 check_every: float = 60.0) -> None:  # fmt: skip
        self._files = [trusted_ca_file, *(crl_files or [])]
        self._args = (trusted_ca_file, crl_files)
        self._check_every = check_every
        self._lock = threading.Lock()
        self._stamp = self._mtimes()
        self._checked = time.monotonic()
        self._verifier = EdsVerifier(*self._args)

    def _mtimes(self) -> tuple[float, ...]:
        return tuple(os.stat(f).st_mtime_ns for f in self._files)

    def _current(self) -> EdsVerifier:
        if time.monotonic() - self._checked < self._check_every:
            return self._verifier
        with self._lock:
            self._checked = time.monotonic()
            try:
                stamp = self._mtimes()
                if stamp != self._stamp:
                    self._verifier = EdsVerifier(*self._args)
                    self._stamp = stamp
            except (OSError, ValueError) as exc:
                log.error("EDS trust files could not be reloaded; keeping the loaded ones: %s", exc)
        return self._verifier

    def verify(self, certificate_pem: str, signature_b64: str, nonce: str, now=None):
        return self._current().verify(certificate_pem, signature_b64, nonce, now=now)

    def verify_cms(self, cms_b64: str, nonce: str, now=None):
        return self._current().verify_cms(cms_b64, nonce, now=now)
