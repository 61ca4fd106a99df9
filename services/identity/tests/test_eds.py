"""Signature (ЭЦП) login: EdsVerifier against certificates built here, and the devca CLI."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from identity.adapters.eds import EdsError, EdsIdentity, EdsVerifier
from identity.tools import devca

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
IIN = "950423451048"
BIN = "120340005678"
NONCE = "login-nonce-4f9c2a"

ROOT_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test NCA root (RSA)")])
INTER_NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test NCA (RSA)")])


@cache
def rsa_key(label: str) -> rsa.RSAPrivateKey:
    """One key per label for the whole module: RSA generation is the slow part."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def person(iin: str | None = IIN, *, bin: str | None = None, cn: str = "ИВАНОВА АЙГУЛЬ"):
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if iin is not None:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"))
    attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"))
    if bin is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{bin}"))
    return x509.Name(attrs)


def key_usage(digital_signature=True, key_cert_sign=False, crl_sign=False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=not key_cert_sign,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def make_cert(
    subject: x509.Name,
    issuer: x509.Name,
    public_key,
    signing_key,
    *,
    ca: bool | None,
    path_length: int | None = None,
    not_before: datetime = NOW - 30 * DAY,
    not_after: datetime = NOW + 300 * DAY,
    usage: x509.KeyUsage | None = None,
    eku: list[x509.ObjectIdentifier] | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signing_key.public_key()),
            critical=False,
        )
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length), critical=True
        )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def make_ca(subject, issuer, key, signing_key, path_length=None, **kw) -> x509.Certificate:
    kw.setdefault("ca", True)
    kw.setdefault("usage", key_usage(False, key_cert_sign=True, crl_sign=True))
    return make_cert(subject, issuer, key.public_key(), signing_key, path_length=path_length, **kw)


def make_leaf(issuer: x509.Certificate, issuer_key, subject=None, **kw) -> x509.Certificate:
    kw.setdefault("ca", None)  # as in the national CA's AUTH certificates
    kw.setdefault("usage", key_usage())
    kw.setdefault("eku", [ExtendedKeyUsageOID.CLIENT_AUTH])
    return make_cert(
        subject or person(), issuer.subject, rsa_key("leaf").public_key(), issuer_key, **kw
    )


def pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def sign(data: str, key=None) -> str:
    key = key or rsa_key("leaf")
    raw = key.sign(data.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(raw).decode()


@dataclass
class Pki:
    root: x509.Certificate
    inter: x509.Certificate
    root_key: rsa.RSAPrivateKey
    inter_key: rsa.RSAPrivateKey
    bundle: str
    files: Path
    extra: dict = field(default_factory=dict)

    def verifier(self, crls: list[x509.CertificateRevocationList] | None = None) -> EdsVerifier:
        paths = []
        for i, crl in enumerate(crls or []):
            path = self.files / f"crl{i}.pem"
            path.write_bytes(crl.public_bytes(serialization.Encoding.PEM))
            paths.append(str(path))
        return EdsVerifier(self.bundle, paths or None)

    def leaf(self, **kw) -> x509.Certificate:
        return make_leaf(self.inter, self.inter_key, **kw)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Pki:
    files = tmp_path_factory.mktemp("pki")
    root_key, inter_key = rsa_key("root"), rsa_key("inter")
    root = make_ca(ROOT_NAME, ROOT_NAME, root_key, root_key, path_length=1)
    inter = make_ca(INTER_NAME, ROOT_NAME, inter_key, root_key, path_length=0)
    bundle = files / "ca.pem"
    bundle.write_text(pem(root))
    return Pki(root, inter, root_key, inter_key, str(bundle), files)


def verify(verifier: EdsVerifier, chain: str, signature: str | None = None, **kw) -> EdsIdentity:
    kw.setdefault("now", NOW)
    return verifier.verify(chain, signature if signature is not None else sign(NONCE), NONCE, **kw)


def assert_code(code: str, fn, *args, **kw) -> EdsError:
    with pytest.raises(EdsError) as info:
        fn(*args, **kw)
    assert info.value.code == code, info.value.message
    assert info.value.message
    return info.value


def make_crl(issuer: x509.Certificate, key, revoked=(), *, this=NOW - DAY, next=NOW + DAY):
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this)
        .next_update(next)
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(this).build()
        )
    return builder.sign(key, hashes.SHA256())


# --- accepted -------------------------------------------------------------------------------


def test_devca_certificate_logs_in(tmp_path):
    devca.init_ca(tmp_path)
    chain, key = devca.issue_certificate(tmp_path, IIN, "ИВАНОВА АЙГУЛЬ")
    verifier = EdsVerifier(str(tmp_path / "ca.pem"))

    identity = verifier.verify(chain, devca.sign_nonce(key, NONCE), NONCE)

    leaf = x509.load_pem_x509_certificates(chain.encode())[0]
    assert identity.iin == IIN
    assert identity.bin is None
    assert "SERIALNUMBER=IIN950423451048" in identity.subject
    assert "CN=ИВАНОВА АЙГУЛЬ" in identity.subject
    assert identity.serial_number == leaf.serial_number
    assert identity.not_after == leaf.not_valid_after_utc
    assert identity.not_after.tzinfo is not None


def test_organisation_certificate_returns_bin(tmp_path):
    devca.init_ca(tmp_path)
    chain, key = devca.issue_certificate(tmp_path, IIN, "ИВАНОВ АСХАТ", bin=BIN)

    identity = EdsVerifier(str(tmp_path / "ca.pem")).verify(
        chain, devca.sign_nonce(key, NONCE), NONCE
    )

    assert (identity.iin, identity.bin) == (IIN, BIN)
    assert f"OU=BIN{BIN}" in identity.subject


def test_leaf_built_here_with_bin(pki):
    leaf = pki.leaf(subject=person(bin=BIN))
    identity = verify(pki.verifier(), pem(leaf, pki.inter))
    assert (identity.iin, identity.bin) == (IIN, BIN)


def test_intermediate_from_the_bundle_when_client_sends_only_the_leaf(pki):
    bundle = pki.files / "root-and-intermediate.pem"
    bundle.write_text(pem(pki.inter, pki.root))
    assert verify(EdsVerifier(str(bundle)), pem(pki.leaf())).iin == IIN


def test_several_roots_in_the_bundle(pki):
    other_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Another root")])
    other = make_ca(other_name, other_name, rsa_key("other-root"), rsa_key("other-root"))
    bundle = pki.files / "two-roots.pem"
    bundle.write_text(pem(other, pki.root))
    assert verify(EdsVerifier(str(bundle)), pem(pki.leaf(), pki.inter)).iin == IIN


def test_leaf_without_extended_key_usage_is_accepted(pki):
    assert verify(pki.verifier(), pem(pki.leaf(eku=None), pki.inter)).iin == IIN


def test_ec_intermediate(pki):
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test NCA (EC)")])
    inter = make_ca(ec_name, ROOT_NAME, ec_key, pki.root_key, path_length=0)
    leaf = make_leaf(inter, ec_key)
    assert verify(pki.verifier(), pem(leaf, inter)).iin == IIN


def test_naive_now_is_utc(pki):
    identity = verify(pki.verifier(), pem(pki.leaf(), pki.inter), now=NOW.replace(tzinfo=None))
    assert identity.iin == IIN


def test_signature_with_surrounding_whitespace(pki):
    assert verify(pki.verifier(), pem(pki.leaf(), pki.inter), f"  {sign(NONCE)}\r\n").iin == IIN


def test_not_revoked_with_crl(pki):
    crl = make_crl(pki.inter, pki.inter_key, revoked=[12345])
    assert verify(pki.verifier([crl]), pem(pki.leaf(), pki.inter)).iin == IIN


# --- dates ----------------------------------------------------------------------------------


def test_expired_leaf(pki):
    leaf = pki.leaf(not_before=NOW - 400 * DAY, not_after=NOW - DAY)
    assert_code("eds_expired", verify, pki.verifier(), pem(leaf, pki.inter))


def test_not_yet_valid_leaf(pki):
    leaf = pki.leaf(not_before=NOW + DAY, not_after=NOW + 300 * DAY)
    assert_code("eds_expired", verify, pki.verifier(), pem(leaf, pki.inter))


def test_expired_intermediate(pki):
    inter = make_ca(
        INTER_NAME,
        ROOT_NAME,
        pki.inter_key,
        pki.root_key,
        path_length=0,
        not_before=NOW - 400 * DAY,
        not_after=NOW - DAY,
    )
    assert_code("eds_expired", verify, pki.verifier(), pem(pki.leaf(), inter))


def test_expired_root(pki):
    root = make_ca(
        ROOT_NAME,
        ROOT_NAME,
        pki.root_key,
        pki.root_key,
        path_length=1,
        not_before=NOW - 400 * DAY,
        not_after=NOW - DAY,
    )
    bundle = pki.files / "expired-root.pem"
    bundle.write_text(pem(root))
    assert_code("eds_expired", verify, EdsVerifier(str(bundle)), pem(pki.leaf(), pki.inter))


# --- trust ----------------------------------------------------------------------------------


def test_untrusted_root_with_the_same_name(pki):
    fake_root_key, fake_inter_key = rsa_key("fake-root"), rsa_key("fake-inter")
    fake_root = make_ca(ROOT_NAME, ROOT_NAME, fake_root_key, fake_root_key, path_length=1)
    fake_inter = make_ca(INTER_NAME, ROOT_NAME, fake_inter_key, fake_root_key, path_length=0)
    leaf = make_leaf(fake_inter, fake_inter_key)
    verifier = pki.verifier()
    assert_code("eds_untrusted", verify, verifier, pem(leaf, fake_inter, fake_root))
    assert_code("eds_untrusted", verify, verifier, pem(leaf, fake_inter))


def test_leaf_signed_by_a_fake_ca_named_like_the_trusted_root(pki):
    fake_key = rsa_key("fake-root")
    fake_root = make_ca(ROOT_NAME, ROOT_NAME, fake_key, fake_key, path_length=1)
    leaf = make_leaf(fake_root, fake_key)
    assert_code("eds_untrusted", verify, pki.verifier(), pem(leaf, fake_root))


def test_self_signed_leaf(pki):
    key = rsa_key("leaf")
    subject = person()
    leaf = make_cert(
        subject,
        subject,
        key.public_key(),
        key,
        ca=None,
        usage=key_usage(),
        eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    assert_code("eds_untrusted", verify, pki.verifier(), pem(leaf))


def test_intermediate_with_ca_false(pki):
    inter = make_ca(INTER_NAME, ROOT_NAME, pki.inter_key, pki.root_key, ca=False)
    assert_code("eds_untrusted", verify, pki.verifier(), pem(pki.leaf(), inter))


def test_intermediate_without_basic_constraints(pki):
    inter = make_ca(INTER_NAME, ROOT_NAME, pki.inter_key, pki.root_key, ca=None)
    assert_code("eds_untrusted", verify, pki.verifier(), pem(pki.leaf(), inter))


def test_path_length_of_the_root_is_enforced(pki):
    root = make_ca(ROOT_NAME, ROOT_NAME, pki.root_key, pki.root_key, path_length=0)
    bundle = pki.files / "root-pathlen-0.pem"
    bundle.write_text(pem(root))
    sub_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sub CA")])
    sub_key = rsa_key("sub")
    sub = make_ca(sub_name, INTER_NAME, sub_key, pki.inter_key)
    leaf = make_leaf(sub, sub_key)
    assert_code("eds_untrusted", verify, EdsVerifier(str(bundle)), pem(leaf, sub, pki.inter))


def test_intermediate_in_the_bundle_is_not_a_trust_anchor(pki):
    fake_root_key = rsa_key("fake-root")
    # An intermediate signed by an untrusted key, listed in the bundle next to the real root.
    stray = make_ca(INTER_NAME, ROOT_NAME, pki.inter_key, fake_root_key, path_length=0)
    bundle = pki.files / "stray-intermediate.pem"
    bundle.write_text(pem(pki.root, stray))
    assert_code("eds_untrusted", verify, EdsVerifier(str(bundle)), pem(pki.leaf()))


def test_root_itself_cannot_log_in(pki):
    assert_code(
        "eds_key_usage", pki.verifier().verify, pem(pki.root), sign(NONCE, pki.root_key), NONCE, NOW
    )


def test_bundle_without_a_root_is_a_configuration_error(pki):
    bundle = pki.files / "no-root.pem"
    bundle.write_text(pem(pki.inter))
    with pytest.raises(ValueError, match="no self-signed root"):
        EdsVerifier(str(bundle))


# --- key usage ------------------------------------------------------------------------------


def test_missing_digital_signature(pki):
    leaf = pki.leaf(usage=key_usage(digital_signature=False))
    assert_code("eds_key_usage", verify, pki.verifier(), pem(leaf, pki.inter))


def test_missing_key_usage(pki):
    leaf = pki.leaf(usage=None)
    assert_code("eds_key_usage", verify, pki.verifier(), pem(leaf, pki.inter))


def test_extended_key_usage_without_client_auth(pki):
    leaf = pki.leaf(eku=[ExtendedKeyUsageOID.EMAIL_PROTECTION, ExtendedKeyUsageOID.CODE_SIGNING])
    assert_code("eds_key_usage", verify, pki.verifier(), pem(leaf, pki.inter))


def test_any_extended_key_usage_is_not_client_auth(pki):
    leaf = pki.leaf(eku=[ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE])
    assert_code("eds_key_usage", verify, pki.verifier(), pem(leaf, pki.inter))


def test_ca_leaf(pki):
    leaf = pki.leaf(ca=True)
    assert_code("eds_key_usage", verify, pki.verifier(), pem(leaf, pki.inter))


# --- revocation -----------------------------------------------------------------------------


def test_revoked_leaf(pki):
    leaf = pki.leaf()
    crl = make_crl(pki.inter, pki.inter_key, revoked=[1, leaf.serial_number])
    error = assert_code("eds_revoked", verify, pki.verifier([crl]), pem(leaf, pki.inter))
    assert "revoked" in error.message


def test_crl_signed_by_another_key(pki):
    leaf = pki.leaf()
    forged = make_crl(pki.inter, rsa_key("fake-inter"))
    assert_code("eds_revoked", verify, pki.verifier([forged]), pem(leaf, pki.inter))
    # A forged CRL next to the genuine one changes nothing, in either direction.
    genuine = make_crl(pki.inter, pki.inter_key)
    forged_revoking = make_crl(pki.inter, rsa_key("fake-inter"), revoked=[leaf.serial_number])
    assert verify(pki.verifier([forged_revoking, genuine]), pem(leaf, pki.inter)).iin == IIN


def test_stale_crl(pki):
    crl = make_crl(pki.inter, pki.inter_key, this=NOW - 10 * DAY, next=NOW - DAY)
    assert_code("eds_revoked", verify, pki.verifier([crl]), pem(pki.leaf(), pki.inter))


def test_crl_from_the_future(pki):
    crl = make_crl(pki.inter, pki.inter_key, this=NOW + DAY, next=NOW + 2 * DAY)
    assert_code("eds_revoked", verify, pki.verifier([crl]), pem(pki.leaf(), pki.inter))


def test_no_crl_of_the_issuer_fails_closed(pki):
    root_crl = make_crl(pki.root, pki.root_key)
    assert_code("eds_revoked", verify, pki.verifier([root_crl]), pem(pki.leaf(), pki.inter))


def test_revoked_intermediate(pki):
    root_crl = make_crl(pki.root, pki.root_key, revoked=[pki.inter.serial_number])
    inter_crl = make_crl(pki.inter, pki.inter_key)
    verifier = pki.verifier([root_crl, inter_crl])
    assert_code("eds_revoked", verify, verifier, pem(pki.leaf(), pki.inter))


def test_der_crl_file(pki, tmp_path):
    leaf = pki.leaf()
    crl = make_crl(pki.inter, pki.inter_key, revoked=[leaf.serial_number])
    path = tmp_path / "nca_rsa.crl"
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))
    verifier = EdsVerifier(pki.bundle, [str(path)])
    assert_code("eds_revoked", verify, verifier, pem(leaf, pki.inter))


# --- signature ------------------------------------------------------------------------------


def test_signature_over_a_different_nonce(pki):
    chain = pem(pki.leaf(), pki.inter)
    assert_code("eds_bad_signature", verify, pki.verifier(), chain, sign("another-nonce"))


def test_signature_by_another_key(pki):
    chain = pem(pki.leaf(), pki.inter)
    assert_code("eds_bad_signature", verify, pki.verifier(), chain, sign(NONCE, rsa_key("x")))


def test_tampered_signature(pki):
    raw = bytearray(base64.b64decode(sign(NONCE)))
    raw[len(raw) // 2] ^= 0x01
    tampered = base64.b64encode(bytes(raw)).decode()
    assert_code("eds_bad_signature", verify, pki.verifier(), pem(pki.leaf(), pki.inter), tampered)


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not base64!",
        "QUJD\nREVG",
        "QQ",  # missing padding
        "QR==",  # non-zero padding bits: not the canonical encoding of b"A"
        "Q" * 5000,
    ],
)
def test_garbage_base64(pki, garbage):
    assert_code("eds_bad_signature", verify, pki.verifier(), pem(pki.leaf(), pki.inter), garbage)


def test_empty_nonce(pki):
    assert_code("eds_bad_signature", pki.verifier().verify, pem(pki.leaf()), sign(""), "", now=NOW)


# --- certificate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "hello",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n" + "QUJD" * 40 + "\n-----END CERTIFICATE-----\n",
    ],
)
def test_garbage_pem(pki, garbage):
    assert_code("eds_bad_certificate", verify, pki.verifier(), garbage)


def test_certificate_pem_too_large(pki):
    chain = pem(pki.leaf(), pki.inter) + "\n" * (64 * 1024)
    assert_code("eds_bad_certificate", verify, pki.verifier(), chain)


def test_too_many_certificates(pki):
    chain = pem(pki.leaf(), *[pki.inter] * 5)
    assert_code("eds_bad_certificate", verify, pki.verifier(), chain)
    # Five is the limit, duplicates included.
    assert verify(pki.verifier(), pem(pki.leaf(), *[pki.inter] * 4)).iin == IIN


def test_non_rsa_leaf(pki):
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = make_cert(
        person(),
        INTER_NAME,
        key.public_key(),
        pki.inter_key,
        ca=None,
        usage=key_usage(),
        eku=[ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    assert_code("eds_bad_certificate", verify, pki.verifier(), pem(leaf, pki.inter))


# --- identity -------------------------------------------------------------------------------


def test_no_serialnumber(pki):
    leaf = pki.leaf(subject=person(iin=None))
    assert_code("eds_no_iin", verify, pki.verifier(), pem(leaf, pki.inter))


@pytest.mark.parametrize(
    "value", ["IIN12345", "IIN1234567890123", "BIN950423451048", "950423451048"]
)
def test_malformed_serialnumber(pki, value):
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "TEST"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, value),
        ]
    )
    leaf = pki.leaf(subject=subject)
    assert_code("eds_no_iin", verify, pki.verifier(), pem(leaf, pki.inter))


def test_serialnumber_with_bin_organisation(pki):
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "ИВАНОВ АСХАТ"),
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{IIN}"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'ТОО "ТЕСТ"'),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{BIN}"),
        ]
    )
    identity = verify(pki.verifier(), pem(pki.leaf(subject=subject), pki.inter))
    assert identity.iin == IIN
    assert identity.bin == BIN


def test_ou_that_is_not_a_bin_is_ignored(pki):
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{IIN}"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Accounting"),
        ]
    )
    identity = verify(pki.verifier(), pem(pki.leaf(subject=subject), pki.inter))
    assert identity.bin is None


# --- devca ----------------------------------------------------------------------------------


def test_init_is_idempotent_and_keys_are_private(tmp_path):
    assert devca.init_ca(tmp_path) is True
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert devca.init_ca(tmp_path) is False
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    for name in ("ca.key", "intermediate.key"):
        assert stat.S_IMODE(os.stat(tmp_path / name).st_mode) == 0o600
    bundle = x509.load_pem_x509_certificates((tmp_path / "ca.pem").read_bytes())
    assert len(bundle) == 1
    assert "Development NCA (not for production)" in bundle[0].subject.rfc4514_string()


def test_init_refuses_a_partial_ca(tmp_path):
    devca.init_ca(tmp_path)
    (tmp_path / "intermediate.key").unlink()
    with pytest.raises(FileExistsError):
        devca.init_ca(tmp_path)


def test_issue_rejects_a_malformed_iin(tmp_path):
    devca.init_ca(tmp_path)
    with pytest.raises(ValueError, match="IIN"):
        devca.issue_certificate(tmp_path, "12345", "TEST")


def test_cli_end_to_end(tmp_path):
    def devca_cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "identity.tools.devca", *args],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    ca_dir, prefix = tmp_path / "devca", tmp_path / "aigul"
    devca_cli("init", "--dir", str(ca_dir))
    assert "already exists" in devca_cli("init", "--dir", str(ca_dir))
    devca_cli(
        "issue",
        "--dir",
        str(ca_dir),
        "--iin",
        IIN,
        "--name",
        "ИВАНОВА АЙГУЛЬ",
        "--out",
        str(prefix),
    )
    assert stat.S_IMODE(os.stat(f"{prefix}.key").st_mode) == 0o600
    nonce = "9f8e7d6c-ЭЦП"
    signature = devca_cli("sign", "--key", f"{prefix}.key", "--nonce", nonce).strip()

    chain = Path(f"{prefix}.pem").read_text()
    identity = EdsVerifier(str(ca_dir / "ca.pem")).verify(chain, signature, nonce)
    assert identity.iin == IIN

    devca_cli("crl", "--dir", str(ca_dir), "--revoke", f"{prefix}.pem")
    verifier = EdsVerifier(str(ca_dir / "ca.pem"), [str(ca_dir / "crl.pem")])
    assert_code("eds_revoked", verifier.verify, chain, signature, nonce)
