"""CMS SignedData (RFC 5652, CAdES-BES) as NCALayer's ``createCAdESFromBase64`` makes it: one
signer, its certificate embedded, the signed data attached or detached.

Read here with a small strict BER reader (NCALayer, like other Java signers, may use indefinite
lengths and chunked octet strings on the outside; what is signed, the signed attributes, must be
DER). ``parse`` takes the structure apart; ``verify_signer`` checks the one signer's RSA
signature over the content. Which certificate may sign, and whether it is trusted, is the
caller's business (adapters/eds.py). Nothing here trusts anything.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

MAX_BYTES = 48 * 1024
MAX_DEPTH = 24
MAX_CERTIFICATES = 5

ID_SIGNED_DATA = "1.2.840.113549.1.7.2"
ID_DATA = "1.2.840.113549.1.7.1"
ID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
ID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
_DIGESTS = {
    "2.16.840.1.101.3.4.2.1": hashes.SHA256,
    "2.16.840.1.101.3.4.2.2": hashes.SHA384,
    "2.16.840.1.101.3.4.2.3": hashes.SHA512,
}
_RSA = "1.2.840.113549.1.1.1"  # rsaEncryption: the digest is the signer's digestAlgorithm
_RSA_WITH = {
    "1.2.840.113549.1.1.11": "2.16.840.1.101.3.4.2.1",
    "1.2.840.113549.1.1.12": "2.16.840.1.101.3.4.2.2",
    "1.2.840.113549.1.1.13": "2.16.840.1.101.3.4.2.3",
}

# Universal tags used here.
_INTEGER, _OCTET_STRING, _NULL, _OID, _SEQUENCE, _SET = 2, 4, 5, 6, 16, 17
_UNIVERSAL, _CONTEXT = 0, 2


class CmsError(ValueError):
    """The CMS cannot be read, or does not sign what it must. `code` is eds.py's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _malformed(message: str) -> CmsError:
    return CmsError("eds_bad_cms", f"the CMS is not valid: {message}")


@dataclass(frozen=True)
class Node:
    cls: int  # 0 universal, 1 application, 2 context, 3 private
    constructed: bool
    tag: int
    data: bytes  # the whole input, shared
    start: int  # first byte of the tag
    body: int  # first byte of the contents
    end: int  # one past the element (end-of-contents octets included)
    children: tuple[Node, ...]
    definite: bool

    @property
    def raw(self) -> bytes:
        return self.data[self.start : self.end]

    @property
    def content(self) -> bytes:
        return self.data[self.body : self.end]

    def is_(self, cls: int, tag: int, constructed: bool | None = None) -> bool:
        return (
            self.cls == cls
            and self.tag == tag
            and (constructed is None or self.constructed == constructed)
        )


def _read(data: bytes, pos: int, limit: int, depth: int) -> Node:
    if depth > MAX_DEPTH:
        raise _malformed("nested too deeply")
    if pos + 2 > limit:
        raise _malformed("truncated")
    first = data[pos]
    cls, constructed, tag = first >> 6, bool(first & 0x20), first & 0x1F
    if tag == 0x1F:
        raise _malformed("high tag numbers are not used in CMS")
    length_byte = data[pos + 1]
    cursor = pos + 2
    if length_byte == 0x80:
        if not constructed:
            raise _malformed("an indefinite length on a primitive element")
        children = []
        while True:
            if cursor + 2 > limit:
                raise _malformed("no end-of-contents")
            if data[cursor] == 0 and data[cursor + 1] == 0:
                return Node(cls, constructed, tag, data, pos, pos + 2, cursor + 2,
                            tuple(children), False)  # fmt: skip
            child = _read(data, cursor, limit, depth + 1)
            children.append(child)
            cursor = child.end
    if length_byte & 0x80:
        count = length_byte & 0x7F
        if count > 4 or cursor + count > limit:
            raise _malformed("a length too long")
        length = int.from_bytes(data[cursor : cursor + count], "big")
        cursor += count
    else:
        length = length_byte
    end = cursor + length
    if end > limit:
        raise _malformed("truncated")
    children = []
    if constructed:
        inner = cursor
        while inner < end:
            child = _read(data, inner, end, depth + 1)
            children.append(child)
            inner = child.end
    return Node(cls, constructed, tag, data, pos, cursor, end, tuple(children), True)


def _element(data: bytes) -> Node:
    node = _read(data, 0, len(data), 0)
    if node.end != len(data):
        raise _malformed("bytes after the structure")
    return node


def _value(node: Node) -> bytes:
    """The contents of a definite primitive element; for a definite element the body ends where
    the element does."""
    if node.constructed or not node.definite:
        raise _malformed("a constructed element where a primitive one belongs")
    return node.content


def _octets(node: Node) -> bytes:
    """An OCTET STRING, primitive or (BER) constructed from chunks."""
    if not node.is_(_UNIVERSAL, _OCTET_STRING):
        raise _malformed("an OCTET STRING was expected")
    if not node.constructed:
        return _value(node)
    return b"".join(_octets(child) for child in node.children)


def _oid(node: Node) -> str:
    if not node.is_(_UNIVERSAL, _OID, constructed=False):
        raise _malformed("an OBJECT IDENTIFIER was expected")
    raw = _value(node)
    if not raw or raw[-1] & 0x80:
        raise _malformed("a broken OBJECT IDENTIFIER")
    arcs, value = [], 0
    for byte in raw:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def _integer(node: Node) -> int:
    if not node.is_(_UNIVERSAL, _INTEGER, constructed=False):
        raise _malformed("an INTEGER was expected")
    raw = _value(node)
    if not raw:
        raise _malformed("an empty INTEGER")
    return int.from_bytes(raw, "big", signed=True)


def _sequence(node: Node, minimum: int = 0) -> tuple[Node, ...]:
    if not node.is_(_UNIVERSAL, _SEQUENCE, constructed=True):
        raise _malformed("a SEQUENCE was expected")
    if len(node.children) < minimum:
        raise _malformed("a SEQUENCE is too short")
    return node.children


def _algorithm(node: Node) -> str:
    parts = _sequence(node, 1)
    if len(parts) > 2 or (len(parts) == 2 and not parts[1].is_(_UNIVERSAL, _NULL)):
        raise _malformed("unexpected algorithm parameters")
    return _oid(parts[0])


@dataclass(frozen=True)
class SignedData:
    content: bytes | None  # None when detached
    certificates: tuple[x509.Certificate, ...]
    signer_issuer: bytes | None  # DER of the issuer Name, with signer_serial
    signer_serial: int | None
    signer_key_id: bytes | None  # or the subject key identifier
    digest_oid: str
    signature_oid: str
    signed_attrs: bytes | None  # DER of the SET the signature covers
    content_type_attr: str | None
    message_digest_attr: bytes | None
    signature: bytes


def parse(der: bytes) -> SignedData:
    if not isinstance(der, bytes | bytearray) or not der:
        raise _malformed("empty")
    if len(der) > MAX_BYTES:
        raise _malformed("too large")
    info = _sequence(_element(bytes(der)), 2)
    if _oid(info[0]) != ID_SIGNED_DATA:
        raise _malformed("not a SignedData")
    wrapper = info[1]
    if not wrapper.is_(_CONTEXT, 0, constructed=True) or len(wrapper.children) != 1:
        raise _malformed("no SignedData content")
    parts = list(_sequence(wrapper.children[0], 4))
    _integer(parts.pop(0))  # version
    digest_set = parts.pop(0)
    if not digest_set.is_(_UNIVERSAL, _SET, constructed=True):
        raise _malformed("no digestAlgorithms")
    encap = _sequence(parts.pop(0), 1)
    if _oid(encap[0]) != ID_DATA:
        raise _malformed("the signed content is not data")
    content = None
    if len(encap) == 2:
        holder = encap[1]
        if not holder.is_(_CONTEXT, 0, constructed=True) or len(holder.children) != 1:
            raise _malformed("a broken eContent")
        content = _octets(holder.children[0])
    elif len(encap) > 2:
        raise _malformed("a broken encapContentInfo")
    certificates: list[x509.Certificate] = []
    while parts and parts[0].cls == _CONTEXT:
        tagged = parts.pop(0)
        if tagged.tag == 0 and tagged.constructed:
            for child in tagged.children:
                if not child.is_(_UNIVERSAL, _SEQUENCE):
                    continue  # other certificate formats (attribute certificates): not used
                try:
                    certificates.append(x509.load_der_x509_certificate(child.raw))
                except ValueError:
                    raise _malformed("an embedded certificate cannot be read") from None
        elif tagged.tag != 1:  # [1] holds CRLs, not used here
            raise _malformed("an unexpected element in SignedData")
    if len(parts) != 1 or not parts[0].is_(_UNIVERSAL, _SET, constructed=True):
        raise _malformed("no signerInfos")
    signers = parts[0].children
    if len(signers) != 1:
        raise CmsError("eds_bad_cms", "the CMS must have exactly one signer")
    if not certificates:
        raise CmsError("eds_bad_cms", "the CMS does not embed the signer's certificate")
    if len(certificates) > MAX_CERTIFICATES:
        raise _malformed("too many certificates")
    return _signer(signers[0], content, tuple(certificates))


def _signer(node: Node, content: bytes | None, certificates) -> SignedData:
    parts = list(_sequence(node, 5))
    _integer(parts.pop(0))  # version: 1 with issuerAndSerialNumber, 3 with a key identifier
    sid = parts.pop(0)
    issuer = serial = key_id = None
    if sid.is_(_UNIVERSAL, _SEQUENCE, constructed=True):
        name_and_serial = _sequence(sid, 2)
        if len(name_and_serial) != 2 or not name_and_serial[0].is_(_UNIVERSAL, _SEQUENCE):
            raise _malformed("a broken issuerAndSerialNumber")
        issuer, serial = name_and_serial[0].raw, _integer(name_and_serial[1])
    elif sid.is_(_CONTEXT, 0, constructed=False):
        key_id = _value(sid)
    else:
        raise _malformed("a broken signer identifier")
    digest_oid = _algorithm(parts.pop(0))
    signed_attrs = content_type = message_digest = None
    if parts and parts[0].is_(_CONTEXT, 0, constructed=True):
        attrs = parts.pop(0)
        if not attrs.definite:
            raise _malformed("signed attributes must be DER")
        # The signature covers the attributes as a SET OF (tag 0x31), not as the [0] they are.
        signed_attrs = b"\x31" + attrs.raw[1:]
        seen: set[str] = set()
        for attr in attrs.children:
            kind, values = _sequence(attr, 2)[:2]
            oid = _oid(kind)
            if oid in seen:
                raise _malformed("a signed attribute appears twice")
            seen.add(oid)
            if not values.is_(_UNIVERSAL, _SET, constructed=True):
                raise _malformed("a broken attribute")
            if oid in (ID_CONTENT_TYPE, ID_MESSAGE_DIGEST) and len(values.children) != 1:
                raise _malformed("an attribute with several values")
            if oid == ID_CONTENT_TYPE:
                content_type = _oid(values.children[0])
            elif oid == ID_MESSAGE_DIGEST:
                message_digest = _octets(values.children[0])
    if len(parts) < 2:
        raise _malformed("a broken SignerInfo")
    signature_oid = _algorithm(parts.pop(0))
    signature = _octets(parts.pop(0))
    if parts and not (len(parts) == 1 and parts[0].is_(_CONTEXT, 1)):
        raise _malformed("an unexpected element in SignerInfo")
    return SignedData(
        content=content,
        certificates=certificates,
        signer_issuer=issuer,
        signer_serial=serial,
        signer_key_id=key_id,
        digest_oid=digest_oid,
        signature_oid=signature_oid,
        signed_attrs=signed_attrs,
        content_type_attr=content_type,
        message_digest_attr=message_digest,
        signature=signature,
    )


def signer_certificate(signed: SignedData) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The certificate the signer identifier names, and the others (path-building hints)."""
    for index, cert in enumerate(signed.certificates):
        if _names_signer(signed, cert):
            others = [c for i, c in enumerate(signed.certificates) if i != index]
            return cert, others
    raise CmsError("eds_bad_cms", "the CMS does not embed the signer's certificate")


def _names_signer(signed: SignedData, cert: x509.Certificate) -> bool:
    if signed.signer_key_id is not None:
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        except (x509.ExtensionNotFound, ValueError):
            return False
        return ski.digest == signed.signer_key_id
    if cert.serial_number != signed.signer_serial:
        return False
    return _raw_issuer(cert) == signed.signer_issuer


def _raw_issuer(cert: x509.Certificate) -> bytes:
    """The issuer Name exactly as the certificate encodes it (not re-encoded)."""
    tbs = _sequence(_element(cert.public_bytes(Encoding.DER)), 3)[0]
    fields = _sequence(tbs, 4)
    offset = 1 if fields[0].is_(_CONTEXT, 0) else 0  # [0] version
    return fields[offset + 2].raw  # serialNumber, signature, issuer


def verify_signer(signed: SignedData, public_key: rsa.RSAPublicKey, content: bytes) -> None:
    """Raise CmsError unless the signer's RSA signature covers `content` (the embedded content,
    when there is one, must be exactly `content`)."""
    if signed.content is not None and signed.content != content:
        raise CmsError("eds_bad_signature", "the CMS signs other data than the nonce")
    hash_cls = _DIGESTS.get(signed.digest_oid)
    if hash_cls is None:
        raise CmsError("eds_bad_signature", "the CMS uses an unsupported digest algorithm")
    if signed.signature_oid != _RSA and _RSA_WITH.get(signed.signature_oid) != signed.digest_oid:
        raise CmsError("eds_bad_signature", "the CMS uses an unsupported signature algorithm")
    if signed.signed_attrs is None:
        signed_bytes = content
    else:
        if signed.content_type_attr != ID_DATA:
            raise CmsError("eds_bad_signature", "the CMS signed attributes lack the content type")
        digest = hashes.Hash(hash_cls())
        digest.update(content)
        if signed.message_digest_attr != digest.finalize():
            raise CmsError("eds_bad_signature", "the CMS signs other data than the nonce")
        signed_bytes = signed.signed_attrs
    try:
        public_key.verify(signed.signature, signed_bytes, padding.PKCS1v15(), hash_cls())
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        raise CmsError("eds_bad_signature", "the CMS signature does not match") from None
