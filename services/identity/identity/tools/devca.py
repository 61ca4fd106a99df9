"""A development certificate authority for trying the signature (ЭЦП) login locally.

Not for production: the keys are stored unencrypted and nothing here is audited.

    python -m identity.tools.devca init --dir .data/devca
    python -m identity.tools.devca issue --dir .data/devca --iin 950423451048 \\
        --name "ИВАНОВА АЙГУЛЬ" --out .data/devca/aigul
    python -m identity.tools.devca sign --key .data/devca/aigul.key --nonce NONCE
    python -m identity.tools.devca cms --cert .data/devca/aigul.pem \\
        --key .data/devca/aigul.key --nonce NONCE [--detached]
    python -m identity.tools.devca crl --dir .data/devca --revoke .data/devca/aigul.pem

``init`` writes ``ca.pem`` (the trusted bundle: EDS_TRUSTED_CA_FILE), ``intermediate.pem``
and their keys; ``issue`` writes ``PREFIX.pem`` (the leaf followed by the intermediate, as
a client sends it) and ``PREFIX.key``; ``sign`` prints a raw signature of the nonce (base64),
``cms`` the CMS (CAdES-BES) signature NCALayer's ``createCAdESFromBase64`` returns: base64 DER,
the nonce attached (or not, with ``--detached``), the signer's certificate and the
intermediate embedded; ``crl`` writes ``crl.pem``, issued by the intermediate.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ROOT_NAME = "Development NCA (not for production)"
INTERMEDIATE_NAME = "Development NCA intermediate (not for production)"
DEFAULT_PERSON = "DEVELOPMENT USER"

ROOT_CERT = "ca.pem"
ROOT_KEY = "ca.key"
INTERMEDIATE_CERT = "intermediate.pem"
INTERMEDIATE_KEY = "intermediate.key"
CRL_FILE = "crl.pem"

ROOT_LIFETIME = timedelta(days=10 * 365)
INTERMEDIATE_LIFETIME = timedelta(days=5 * 365)
LEAF_LIFETIME = timedelta(days=365)
CRL_LIFETIME = timedelta(days=30)
# Backdated so that a clock a little behind this machine's still accepts a fresh certificate.
CLOCK_SKEW = timedelta(minutes=5)

_TWELVE_DIGITS = re.compile(r"[0-9]{12}")


def init_ca(directory: str | os.PathLike[str], *, now: datetime | None = None) -> bool:
    """Create the development root and intermediate in ``directory``.

    Returns False, touching nothing, when they already exist.
    """
    base = Path(directory)
    files = [base / name for name in (ROOT_CERT, ROOT_KEY, INTERMEDIATE_CERT, INTERMEDIATE_KEY)]
    present = [path for path in files if path.exists()]
    if len(present) == len(files):
        return False
    if present:
        # Never replace half of a CA: a new root would silently untrust every issued leaf.
        raise FileExistsError(
            f"{base} holds only part of a development CA ({', '.join(p.name for p in present)});"
            " remove it or use another directory"
        )
    now = now or datetime.now(UTC)
    base.mkdir(mode=0o700, parents=True, exist_ok=True)

    root_key = _new_key()
    root_name = _name(NameOID.COMMON_NAME, ROOT_NAME)
    root = (
        _builder(root_name, root_name, root_key.public_key(), now, now + ROOT_LIFETIME)
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    intermediate_key = _new_key()
    intermediate = (
        _builder(
            _name(NameOID.COMMON_NAME, INTERMEDIATE_NAME),
            root_name,
            intermediate_key.public_key(),
            now,
            now + INTERMEDIATE_LIFETIME,
            issuer_key=root_key.public_key(),
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_ca_key_usage(), critical=True)
        .sign(root_key, hashes.SHA256())
    )
    _write_private(base / ROOT_KEY, _key_pem(root_key))
    _write_private(base / INTERMEDIATE_KEY, _key_pem(intermediate_key))
    (base / INTERMEDIATE_CERT).write_bytes(_cert_pem(intermediate))
    (base / ROOT_CERT).write_bytes(_cert_pem(root))
    return True


def issue_certificate(
    directory: str | os.PathLike[str],
    iin: str,
    name: str | None = None,
    bin: str | None = None,
    *,
    now: datetime | None = None,
    lifetime: timedelta = LEAF_LIFETIME,
) -> tuple[str, str]:
    """Issue an AUTH certificate for ``iin`` (and organisation ``bin``).

    Returns ``(certificate_pem, key_pem)``; the certificate PEM is the leaf followed by the
    intermediate, as a client sends it.
    """
    if not _TWELVE_DIGITS.fullmatch(iin):
        raise ValueError("the IIN must be 12 digits")
    if bin is not None and not _TWELVE_DIGITS.fullmatch(bin):
        raise ValueError("the BIN must be 12 digits")
    name = (name or DEFAULT_PERSON).strip()
    if not name:
        raise ValueError("the name must not be empty")
    base = Path(directory)
    intermediate, intermediate_key = _load_intermediate(base)
    now = now or datetime.now(UTC)
    not_after = min(now + lifetime, intermediate.not_valid_after_utc)

    # Attribute order as in the national CA's AUTH certificates.
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, name)]
    surname, _, given = name.partition(" ")
    if given.strip():
        attributes.append(x509.NameAttribute(NameOID.SURNAME, surname))
    attributes += [
        x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"),
        x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
    ]
    if given.strip():
        attributes.append(x509.NameAttribute(NameOID.GIVEN_NAME, given.strip()))
    if bin is not None:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin}"))

    key = _new_key()
    leaf = (
        _builder(
            x509.Name(attributes),
            intermediate.subject,
            key.public_key(),
            now,
            not_after,
            issuer_key=intermediate_key.public_key(),
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(intermediate_key, hashes.SHA256())
    )
    chain = _cert_pem(leaf) + _cert_pem(intermediate)
    return chain.decode("ascii"), _key_pem(key).decode("ascii")


def sign_nonce(key_pem: str | bytes, nonce: str) -> str:
    """Sign the nonce's UTF-8 bytes as the client does: RSA PKCS#1 v1.5 + SHA-256, base64."""
    data = key_pem.encode("ascii") if isinstance(key_pem, str) else key_pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the key must be an RSA private key")
    signature = key.sign(nonce.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode("ascii")


def sign_cms(
    certificate_pem: str | bytes, key_pem: str | bytes, nonce: str, *, detached: bool = False
) -> str:
    """The CMS (CAdES-BES) signature of the nonce's UTF-8 bytes, as NCALayer's
    ``createCAdESFromBase64`` makes it: SHA-256 with RSA over signed attributes (content type,
    signing time, message digest), the signer's certificate and the rest of
    ``certificate_pem`` (the intermediate) embedded, the nonce attached unless ``detached``.
    Base64 of the DER."""
    certificates = x509.load_pem_x509_certificates(_ascii(certificate_pem))
    key = serialization.load_pem_private_key(_ascii(key_pem), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the key must be an RSA private key")
    builder = (
        pkcs7.PKCS7SignatureBuilder()
        .set_data(nonce.encode("utf-8"))
        .add_signer(certificates[0], key, hashes.SHA256())
    )
    for extra in certificates[1:]:
        builder = builder.add_certificate(extra)
    options = [pkcs7.PKCS7Options.Binary]
    if detached:
        options.append(pkcs7.PKCS7Options.DetachedSignature)
    der = builder.sign(serialization.Encoding.DER, options)
    return base64.b64encode(der).decode("ascii")


def write_crl(
    directory: str | os.PathLike[str],
    revoke: Iterable[str | bytes] = (),
    *,
    now: datetime | None = None,
) -> Path:
    """(Re)write ``crl.pem``: the serials it already revokes plus those of ``revoke`` (PEMs).

    Returns the path of the CRL.
    """
    base = Path(directory)
    intermediate, intermediate_key = _load_intermediate(base)
    now = now or datetime.now(UTC)
    path = base / CRL_FILE

    revoked: dict[int, datetime] = {}
    number = 1
    if path.exists():
        old = x509.load_pem_x509_crl(path.read_bytes())
        if old.issuer == intermediate.subject and old.is_signature_valid(intermediate.public_key()):
            revoked = {entry.serial_number: entry.revocation_date_utc for entry in old}
            try:
                number = old.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
                number += 1
            except x509.ExtensionNotFound:
                pass
    for pem in revoke:
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        cert = x509.load_pem_x509_certificates(data)[0]
        try:
            cert.verify_directly_issued_by(intermediate)
        except (InvalidSignature, ValueError, TypeError) as exc:
            raise ValueError(
                f"certificate {cert.subject.rfc4514_string()} was not issued by this CA"
            ) from exc
        revoked.setdefault(cert.serial_number, now)

    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(intermediate.subject)
        .last_update(now - CLOCK_SKEW)
        .next_update(now + CRL_LIFETIME)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(intermediate_key.public_key()),
            critical=False,
        )
    )
    for serial, when in sorted(revoked.items()):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    crl = builder.sign(intermediate_key, hashes.SHA256())
    path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m identity.tools.devca",
        description="Development CA for the signature login. Not for production.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    init = commands.add_parser("init", help="create the development root and intermediate")
    init.add_argument("--dir", required=True, help="directory of the development CA")

    issue = commands.add_parser("issue", help="issue an AUTH certificate")
    issue.add_argument("--dir", required=True, help="directory of the development CA")
    issue.add_argument("--iin", required=True, help="12-digit IIN of the holder")
    issue.add_argument("--name", default=DEFAULT_PERSON, help='"SURNAME NAME" of the holder')
    issue.add_argument("--bin", help="12-digit BIN, for an organisation's employee")
    issue.add_argument("--out", required=True, help="writes PREFIX.pem and PREFIX.key")

    sign = commands.add_parser("sign", help="sign a login nonce, print the base64 signature")
    sign.add_argument("--key", required=True, help="PREFIX.key written by issue")
    sign.add_argument("--nonce", required=True, help="the nonce exactly as the server gave it")

    cms = commands.add_parser(
        "cms", help="sign a nonce as NCALayer's createCAdESFromBase64 does, print the base64 CMS"
    )
    cms.add_argument("--cert", required=True, help="PREFIX.pem written by issue")
    cms.add_argument("--key", required=True, help="PREFIX.key written by issue")
    cms.add_argument("--nonce", required=True, help="the nonce exactly as the server gave it")
    cms.add_argument("--detached", action="store_true", help="leave the nonce out of the CMS")

    crl = commands.add_parser("crl", help="(re)write DIR/crl.pem")
    crl.add_argument("--dir", required=True, help="directory of the development CA")
    crl.add_argument(
        "--revoke",
        action="append",
        default=[],
        metavar="PREFIX.pem",
        help="certificate to revoke (repeatable); revoked ones stay revoked",
    )

    args = parser.parse_args(argv)
    try:
        if args.command == "init":
            if init_ca(args.dir):
                print(f"created the development CA in {args.dir}")
            else:
                print(f"the development CA in {args.dir} already exists; nothing to do")
            print(f"trusted bundle: EDS_TRUSTED_CA_FILE={Path(args.dir) / ROOT_CERT}")
        elif args.command == "issue":
            cert_pem, key_pem = issue_certificate(args.dir, args.iin, args.name, args.bin)
            cert_path, key_path = Path(f"{args.out}.pem"), Path(f"{args.out}.key")
            _write_private(key_path, key_pem.encode("ascii"))
            cert_path.write_text(cert_pem, encoding="ascii")
            print(f"wrote {cert_path} and {key_path}")
        elif args.command == "sign":
            print(sign_nonce(Path(args.key).read_bytes(), args.nonce))
        elif args.command == "cms":
            cert, key = Path(args.cert).read_bytes(), Path(args.key).read_bytes()
            print(sign_cms(cert, key, args.nonce, detached=args.detached))
        else:
            pems = [Path(name).read_bytes() for name in args.revoke]
            path = write_crl(args.dir, pems)
            print(f"wrote {path}; valid for {CRL_LIFETIME.days} days, then run crl again")
    except (OSError, ValueError) as exc:
        print(f"devca: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _ascii(text: str | bytes) -> bytes:
    return text.encode("ascii") if isinstance(text, str) else text


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(oid: x509.ObjectIdentifier, value: str) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(oid, value), x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ")]
    )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    now: datetime,
    not_after: datetime,
    *,
    issuer_key: rsa.RSAPublicKey | None = None,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key or public_key),
            critical=False,
        )
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _load_intermediate(base: Path) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    cert_path, key_path = base / INTERMEDIATE_CERT, base / INTERMEDIATE_KEY
    if not (cert_path.exists() and key_path.exists()):
        raise FileNotFoundError(f"no development CA in {base}: run `init --dir {base}` first")
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError(f"{key_path} is not an RSA private key")
    return cert, key


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _write_private(path: Path, data: bytes) -> None:
    # Created 0600 rather than chmod-ed afterwards, so the key is never readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(data)


if __name__ == "__main__":
    sys.exit(main())
