"""Digital signatures as citizens make them (issue 10): the CMS (CAdES-BES) that NCALayer's
createCAdESFromBase64 returns, attached or detached, checked like a raw signature (chain, key
usage, validity, revocation, single use); made here by devca and, as an independent
implementation, by the openssl command."""

from __future__ import annotations

import base64
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.adapters import cms as cms_reader
from identity.adapters.eds import EdsError, EdsVerifier
from identity.tools import devca

IIN = "950423451048"
NONCE = "cms-nonce-7Qx_2b"
NAME = "АХМЕТОВА АЙГЕРИМ"
# openssl signs as other tools do; it is part of every Debian machine, and its absence fails.
OPENSSL = shutil.which("openssl") or "openssl"


@pytest.fixture(scope="module")
def ca(tmp_path_factory):
    base = tmp_path_factory.mktemp("cms-ca")
    devca.init_ca(base)
    cert, key = devca.issue_certificate(base, IIN, NAME)
    return base, cert, key


@pytest.fixture(scope="module")
def verifier(ca):
    return EdsVerifier(str(ca[0] / "ca.pem"))


def code_of(fn, *args, **kw) -> str:
    with pytest.raises(EdsError) as caught:
        fn(*args, **kw)
    return caught.value.code


def b64(der: bytes) -> str:
    return base64.b64encode(der).decode()


@pytest.mark.parametrize("detached", [False, True])
def test_devca_cms_verifies_attached_and_detached(ca, verifier, detached):
    _, cert, key = ca
    signed = devca.sign_cms(cert, key, NONCE, detached=detached)
    identity = verifier.verify_cms(signed, NONCE)
    assert identity.iin == IIN
    parsed = cms_reader.parse(base64.b64decode(signed))
    assert (parsed.content is None) is detached
    assert parsed.signed_attrs is not None and len(parsed.certificates) == 2


def test_line_breaks_in_the_base64_are_fine(ca, verifier):
    _, cert, key = ca
    signed = devca.sign_cms(cert, key, NONCE)
    wrapped = "\r\n".join(signed[i : i + 76] for i in range(0, len(signed), 76))
    assert verifier.verify_cms(wrapped, NONCE).iin == IIN


@pytest.mark.parametrize("detached", [False, True])
def test_a_cms_of_another_nonce_is_refused(ca, verifier, detached):
    _, cert, key = ca
    signed = devca.sign_cms(cert, key, "another-nonce", detached=detached)
    assert code_of(verifier.verify_cms, signed, NONCE) == "eds_bad_signature"


def test_a_tampered_signature_is_refused(ca, verifier):
    _, cert, key = ca
    der = bytearray(base64.b64decode(devca.sign_cms(cert, key, NONCE)))
    parsed = cms_reader.parse(bytes(der))
    at = bytes(der).rindex(parsed.signature)
    der[at + 10] ^= 0x01
    assert code_of(verifier.verify_cms, b64(bytes(der)), NONCE) == "eds_bad_signature"


def test_the_signed_content_replaced_is_refused(ca, verifier):
    _, cert, key = ca
    der = base64.b64decode(devca.sign_cms(cert, key, NONCE))
    forged = der.replace(NONCE.encode(), NONCE.upper().encode())
    assert forged != der
    assert code_of(verifier.verify_cms, b64(forged), NONCE.upper()) == "eds_bad_signature"


def test_chain_checks_apply_to_the_cms_signer(ca, tmp_path):
    base, cert, key = ca
    other = tmp_path / "other"
    devca.init_ca(other)
    stranger, stranger_key = devca.issue_certificate(other, IIN, NAME)
    ours = EdsVerifier(str(base / "ca.pem"))
    untrusted = devca.sign_cms(stranger, stranger_key, NONCE)
    assert code_of(ours.verify_cms, untrusted, NONCE) == "eds_untrusted"
    old_cert, old_key = devca.issue_certificate(
        base, IIN, NAME, now=datetime.now(UTC) - timedelta(days=30), lifetime=timedelta(days=1)
    )
    expired = devca.sign_cms(old_cert, old_key, NONCE)
    assert code_of(ours.verify_cms, expired, NONCE) == "eds_expired"
    revoked_cert, revoked_key = devca.issue_certificate(base, IIN, NAME)
    crl = devca.write_crl(base, revoke=[revoked_cert])
    with_crl = EdsVerifier(str(base / "ca.pem"), [str(crl)])
    revoked = devca.sign_cms(revoked_cert, revoked_key, NONCE)
    assert code_of(with_crl.verify_cms, revoked, NONCE) == "eds_revoked"
    assert with_crl.verify_cms(devca.sign_cms(cert, key, NONCE), NONCE).iin == IIN


def _leaf(base: Path, *, digital_signature=True, eku=ExtendedKeyUsageOID.CLIENT_AUTH, iin=IIN):
    """A leaf from the development intermediate with the usages asked for."""
    inter = x509.load_pem_x509_certificate((base / devca.INTERMEDIATE_CERT).read_bytes())
    inter_key = serialization.load_pem_private_key(
        (base / devca.INTERMEDIATE_KEY).read_bytes(), None
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.now(UTC)
    subject = [x509.NameAttribute(NameOID.COMMON_NAME, NAME)]
    if iin:
        subject.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{iin}"))
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(inter.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(digital_signature, True, True, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([eku]), critical=False)
    )
    leaf = builder.sign(inter_key, hashes.SHA256())
    pem = leaf.public_bytes(serialization.Encoding.PEM) + inter.public_bytes(
        serialization.Encoding.PEM
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem.decode(), key_pem.decode()


def test_key_usage_and_the_iin_are_checked_for_a_cms_signer(ca, verifier):
    base = ca[0]
    for kwargs, code in (
        ({"digital_signature": False}, "eds_key_usage"),
        ({"eku": ExtendedKeyUsageOID.EMAIL_PROTECTION}, "eds_key_usage"),
        ({"iin": None}, "eds_no_iin"),
    ):
        cert, key = _leaf(base, **kwargs)
        assert code_of(verifier.verify_cms, devca.sign_cms(cert, key, NONCE), NONCE) == code


@pytest.mark.parametrize(
    "garbage",
    ["", "   ", "@@@@", "AAAA", b64(b"\x30\x80"), b64(b"\x30\x03\x02\x01"), "A" * 70000, 17],
)
def test_garbage_is_a_clear_refusal(verifier, garbage):
    assert code_of(verifier.verify_cms, garbage, NONCE) in {"eds_bad_cms", "eds_bad_signature"}


def test_structures_that_are_not_one_signer_with_its_certificate_are_refused(ca, verifier):
    _, cert, key = ca
    der = base64.b64decode(devca.sign_cms(cert, key, NONCE))
    assert code_of(verifier.verify_cms, b64(der + b"\x00"), NONCE) == "eds_bad_cms"
    assert code_of(verifier.verify_cms, b64(der[:-7]), NONCE) == "eds_bad_cms"
    deep = b"\x30\x80" * 40 + b"\x00\x00" * 40
    assert code_of(verifier.verify_cms, b64(deep), NONCE) == "eds_bad_cms"


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_any_damage_to_a_cms_is_refused_never_a_crash(ca, verifier, data):
    _, cert, key = ca
    der = bytearray(base64.b64decode(_cached_cms(cert, key)))
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        at = data.draw(st.integers(min_value=0, max_value=len(der) - 1))
        der[at] = data.draw(st.integers(min_value=0, max_value=255))
    cut = data.draw(st.integers(min_value=1, max_value=len(der)))
    damaged = b64(bytes(der[:cut]))
    try:
        identity = verifier.verify_cms(damaged, NONCE)
    except EdsError:
        return
    # A change that left the signature valid (a byte of an unsigned part): still the signer.
    assert identity.iin == IIN


_CMS: dict = {}


def _cached_cms(cert, key) -> str:
    if "x" not in _CMS:
        _CMS["x"] = devca.sign_cms(cert, key, NONCE)
    return _CMS["x"]


# --- made by another implementation ------------------------------------------------------------
OPENSSL_VARIANTS = {
    "attached": ["-nodetach"],
    "detached": [],
    "ber-stream": ["-nodetach", "-stream"],  # indefinite lengths, chunked content
    "no-signed-attributes": ["-nodetach", "-noattr"],
    "key-identifier-sha512": ["-nodetach", "-keyid", "-md", "sha512"],
}


def openssl_cms(tmp_path, cert, key, *options) -> str:
    (tmp_path / "leaf.pem").write_text(cert)
    (tmp_path / "leaf.key").write_text(key)
    (tmp_path / "nonce").write_bytes(NONCE.encode())
    done = subprocess.run(
        [OPENSSL, "cms", "-sign", "-binary", "-outform", "DER", "-in", "nonce",
         "-signer", "leaf.pem", "-inkey", "leaf.key", "-out", "out.der", *options],
        cwd=tmp_path, capture_output=True, check=False, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return b64((tmp_path / "out.der").read_bytes())


@pytest.mark.parametrize("variant", sorted(OPENSSL_VARIANTS))
def test_cms_made_by_openssl_verifies(ca, verifier, tmp_path, variant):
    base, cert, key = ca
    intermediate = str(base / devca.INTERMEDIATE_CERT)
    signed = openssl_cms(tmp_path, cert, key, "-certfile", intermediate, *OPENSSL_VARIANTS[variant])
    if variant == "ber-stream":
        assert base64.b64decode(signed)[:2] == b"\x30\x80"
    assert verifier.verify_cms(signed, NONCE).iin == IIN
    assert code_of(verifier.verify_cms, signed, NONCE + "x") == "eds_bad_signature"


def test_a_cms_with_only_the_signers_certificate_needs_the_intermediate_in_the_bundle(
    ca, verifier, tmp_path
):
    """NCALayer embeds only the signer's certificate: the national CA's intermediate then comes
    from EDS_TRUSTED_CA_FILE, where it is a path-building hint, never a trust anchor."""
    base, cert, key = ca
    signed = openssl_cms(tmp_path, cert, key, "-nodetach")
    assert len(cms_reader.parse(base64.b64decode(signed)).certificates) == 1
    assert code_of(verifier.verify_cms, signed, NONCE) == "eds_untrusted"
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(
        (base / "ca.pem").read_bytes() + (base / devca.INTERMEDIATE_CERT).read_bytes()
    )
    assert EdsVerifier(str(bundle)).verify_cms(signed, NONCE).iin == IIN


def test_a_cms_without_the_signers_certificate_is_refused(ca, verifier, tmp_path):
    base, cert, key = ca
    intermediate = str(base / devca.INTERMEDIATE_CERT)
    signed = openssl_cms(tmp_path, cert, key, "-nodetach", "-nocerts", "-certfile", intermediate)
    assert code_of(verifier.verify_cms, signed, NONCE) == "eds_bad_cms"


def test_devca_cms_command(ca, tmp_path):
    base, cert, key = ca
    (tmp_path / "p.pem").write_text(cert)
    (tmp_path / "p.key").write_text(key)
    outputs = []
    for extra in ([], ["--detached"]):
        done = subprocess.run(
            [sys.executable, "-m", "identity.tools.devca", "cms", "--cert", "p.pem",
             "--key", "p.key", "--nonce", NONCE, *extra],
            cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout.strip())
    verifier = EdsVerifier(str(base / "ca.pem"))
    assert all(verifier.verify_cms(out, NONCE).iin == IIN for out in outputs)
    assert cms_reader.parse(base64.b64decode(outputs[1])).content is None


# --- over HTTP ------------------------------------------------------------------------------
@pytest.mark.integration
@pytest.mark.parametrize("detached", [False, True])
def test_sign_in_with_a_cms(client, db, h, eds_dir, detached):
    h.register(client, db)
    cert, key = devca.issue_certificate(eds_dir, h.MOTHER_IIN, NAME)
    ch = client.post("/eds/challenges").json
    signed = devca.sign_cms(cert, key, ch["nonce"], detached=detached)
    body = {"challenge_id": ch["challenge_id"], "cms": signed}
    r = client.post("/sessions/eds", json=body)
    assert r.status_code == 201, r.json
    again = client.post("/sessions/eds", json=body)
    assert again.status_code == 410  # the nonce is used once
    ch2 = client.post("/eds/challenges").json
    r = client.post("/sessions/eds", json={**body, "challenge_id": ch2["challenge_id"]})
    assert r.status_code == 401 and r.json["code"] == "eds_bad_signature"
    assert r.json["invalid_params"][0]["name"] == "cms"


@pytest.mark.integration
def test_sign_in_body_is_one_kind_of_signature(client, db, h):
    ch = client.post("/eds/challenges").json["challenge_id"]
    for body, field in (
        ({"challenge_id": ch}, "certificate"),
        ({"challenge_id": ch, "certificate": "x"}, "signature"),
        ({"challenge_id": ch, "cms": "AAAA", "certificate": "x"}, "certificate"),
    ):
        r = client.post("/sessions/eds", json=body)
        assert r.status_code == 422 and field in {p["name"] for p in r.json["invalid_params"]}
    r = client.post("/sessions/eds", json={"challenge_id": ch, "cms": "not base64!"})
    assert r.status_code == 401 and r.json["code"] == "eds_bad_cms"
