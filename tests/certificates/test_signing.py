"""CAdES B-B `.pdf.p7m` signing: checked against OpenSSL and against our own verifier.

Plain pytest (no database); the development PKI lives in pytest's tmp directories.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from asn1crypto import cms, core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

import certificates.pki
from certificates.pki import DevPKI, ensure_dev_pki, issue_seal_certificate
from certificates.signing import (
    ATTR_CONTENT_TYPE,
    ATTR_MESSAGE_DIGEST,
    ATTR_MIME_TYPE,
    ATTR_SIGNING_CERTIFICATE_V2,
    ATTR_SIGNING_TIME,
    MIME_TYPE_OID,
    SIGNING_CERTIFICATE_V2_OID,
    FileSigner,
    Signer,
    parse_signed_attributes,
    verify_p7m,
)

ORGANISATION = "Città Metropolitana di Milano"
FIVE_ATTRIBUTES = (
    ATTR_CONTENT_TYPE,
    ATTR_MESSAGE_DIGEST,
    ATTR_SIGNING_TIME,
    ATTR_SIGNING_CERTIFICATE_V2,
    ATTR_MIME_TYPE,
)


def _openssl_major() -> int | None:
    exe = shutil.which("openssl")
    if exe is None:
        return None
    out = subprocess.run([exe, "version"], capture_output=True, text=True, check=False).stdout
    match = re.match(r"OpenSSL (\d+)\.", out)
    return int(match.group(1)) if match else None


# `-cades` on verify needs OpenSSL 3; without it the interop tests cannot say anything.
requires_openssl3 = pytest.mark.skipif(
    (_openssl_major() or 0) < 3, reason="needs the OpenSSL 3.x command-line tool"
)


def openssl_verify(p7m: bytes, ca_pem: Path, workdir: Path) -> tuple[bool, bytes, str]:
    """Run the reference command; return (success, extracted content, stderr)."""
    envelope = workdir / "x.pdf.p7m"
    extracted = workdir / "x.pdf"
    envelope.write_bytes(p7m)
    if extracted.exists():
        extracted.unlink()
    proc = subprocess.run(
        [
            "openssl", "cms", "-verify", "-cades", "-inform", "DER", "-binary",
            "-CAfile", str(ca_pem), "-in", str(envelope), "-out", str(extracted),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    content = extracted.read_bytes() if extracted.exists() else b""
    return proc.returncode == 0, content, proc.stderr


def make_pdf(size: int = 60_000) -> bytes:
    # Binary payload with CR/LF and NUL bytes: any text canonicalisation would corrupt it.
    return b"%PDF-1.7\r\n%\xe2\xe3\xcf\xd3\r\n" + os.urandom(size) + b"\n\x00\r\n%%EOF\n"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> DevPKI:
    return ensure_dev_pki(tmp_path_factory.mktemp("pki"), organisation=ORGANISATION)


@pytest.fixture(scope="module")
def signer(pki: DevPKI) -> FileSigner:
    return FileSigner.from_pkcs12(pki.p12_path, pki.password.decode())


@pytest.fixture(scope="module")
def other_pki(tmp_path_factory: pytest.TempPathFactory) -> DevPKI:
    return ensure_dev_pki(tmp_path_factory.mktemp("other-pki"), organisation="Altro Ente")


@pytest.fixture(scope="module")
def ca_pem(pki: DevPKI) -> bytes:
    return pki.ca_pem_path.read_bytes()


def _signer_info(p7m: bytes) -> cms.SignerInfo:
    return cms.ContentInfo.load(p7m)["content"]["signer_infos"][0]


def _resign(p7m: bytes, pki: DevPKI, attrs: list[cms.CMSAttribute]) -> bytes:
    """Replace the signed attributes and produce a *correct* signature over them.

    Lets the tests prove that a rule is enforced by the attribute checks themselves rather
    than only by a broken signature.
    """
    key, _cert, _extra = pkcs12.load_key_and_certificates(pki.p12_path.read_bytes(), pki.password)
    assert isinstance(key, rsa.RSAPrivateKey)
    info = cms.ContentInfo.load(p7m)
    signer_info = info["content"]["signer_infos"][0]
    new_attrs = cms.CMSAttributes(attrs)
    signature = key.sign(new_attrs.dump(), padding.PKCS1v15(), hashes.SHA256())
    signer_info["signed_attrs"] = cms.CMSAttributes.load(new_attrs.dump())
    signer_info["signature"] = signature
    return info.dump(force=True)


def _attrs(p7m: bytes) -> list[cms.CMSAttribute]:
    return [cms.CMSAttribute.load(a.dump()) for a in _signer_info(p7m)["signed_attrs"]]


# --------------------------------------------------------------------------------------
# (a) OpenSSL accepts the envelope and extracts the original bytes
# --------------------------------------------------------------------------------------


@requires_openssl3
def test_openssl_verifies_and_extracts_identical_content(
    tmp_path: Path, pki: DevPKI, signer: FileSigner
) -> None:
    pdf = make_pdf()
    ok, content, stderr = openssl_verify(signer.sign(pdf), pki.ca_pem_path, tmp_path)
    assert ok, stderr
    assert content == pdf


@requires_openssl3
def test_openssl_verifies_ec_seal(tmp_path: Path, pki: DevPKI) -> None:
    ca_cert = x509.load_pem_x509_certificate(pki.ca_pem_path.read_bytes())
    ca_key = serialization.load_pem_private_key(pki.ca_key_path.read_bytes(), pki.password)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = issue_seal_certificate(ca_cert, ca_key, key.public_key(), organisation=ORGANISATION)
    ec_signer = FileSigner(key, cert, [ca_cert])

    pdf = make_pdf(5_000)
    p7m = ec_signer.sign(pdf)
    sig_alg = _signer_info(p7m)["signature_algorithm"]["algorithm"].dotted
    assert sig_alg == "1.2.840.10045.4.3.2"  # ecdsa-with-SHA256
    ok, content, stderr = openssl_verify(p7m, pki.ca_pem_path, tmp_path)
    assert ok, stderr
    assert content == pdf
    assert verify_p7m(p7m, trusted_ca_pem=pki.ca_pem_path.read_bytes()).valid


# --------------------------------------------------------------------------------------
# (b) structure: attributes exactly once, hashes, DER
# --------------------------------------------------------------------------------------


def test_signed_attributes_each_exactly_once(signer: FileSigner) -> None:
    pdf = make_pdf()
    attrs = parse_signed_attributes(signer.sign(pdf))

    for name in FIVE_ATTRIBUTES:
        assert len(attrs.get(name, [])) == 1, name
    assert set(attrs) == set(FIVE_ATTRIBUTES)
    assert attrs[ATTR_CONTENT_TYPE] == ["data"]
    assert attrs[ATTR_MESSAGE_DIGEST] == [hashlib.sha256(pdf).digest()]
    assert attrs[ATTR_MIME_TYPE] == ["application/pdf"]
    signing_time = attrs[ATTR_SIGNING_TIME][0]
    assert abs(datetime.now(UTC) - signing_time) < timedelta(minutes=1)

    signing_cert = attrs[ATTR_SIGNING_CERTIFICATE_V2][0]
    assert len(signing_cert["certs"]) == 1
    ess_cert_id = signing_cert["certs"][0]
    cert_der = signer.certificate.public_bytes(serialization.Encoding.DER)
    assert ess_cert_id["cert_hash"] == hashlib.sha256(cert_der).digest()
    assert ess_cert_id["hash_algorithm"]["algorithm"] == "sha256"
    assert ess_cert_id["issuer_serial"]["serial_number"] == signer.certificate.serial_number
    assert signing_cert["policies"] is None  # EN 319 122-1: policies shall not be used


def test_cms_structure_matches_checklist(signer: FileSigner) -> None:
    pdf = make_pdf()
    p7m = signer.sign(pdf, mime_type="application/pdf")
    info = cms.ContentInfo.load(p7m)

    # DER output: a forced canonical re-encoding is byte-identical.
    assert cms.ContentInfo.load(p7m).dump(force=True) == p7m
    assert info["content_type"].dotted == "1.2.840.113549.1.7.2"
    signed_data = info["content"]
    assert signed_data["version"].native == "v1"
    assert [a["algorithm"].native for a in signed_data["digest_algorithms"]] == ["sha256"]
    encap = signed_data["encap_content_info"]
    assert encap["content_type"].dotted == "1.2.840.113549.1.7.1"
    assert bytes(encap["content"]) == pdf  # attached and unchanged

    certs = [c.chosen.dump() for c in signed_data["certificates"]]
    assert len(certs) == len(set(certs)) == 2  # seal + CA, no duplicates
    assert signer.certificate.public_bytes(serialization.Encoding.DER) in certs

    assert len(signed_data["signer_infos"]) == 1
    signer_info = signed_data["signer_infos"][0]
    assert signer_info["version"].native == "v1"
    assert signer_info["sid"].name == "issuer_and_serial_number"
    assert signer_info["digest_algorithm"]["algorithm"].native == "sha256"
    assert signer_info["signature_algorithm"]["algorithm"].dotted == "1.2.840.113549.1.1.11"

    signed_attrs = signer_info["signed_attrs"]
    raw = signed_attrs.dump()
    assert raw[0] == 0xA0  # [0] IMPLICIT in the SignerInfo
    # The SET OF is sorted DER (re-encoding changes nothing), and the signature covers it
    # with the universal SET tag.
    assert signed_attrs.untag().dump(force=True) == b"\x31" + raw[1:]
    signer.certificate.public_key().verify(
        signer_info["signature"].native, b"\x31" + raw[1:], padding.PKCS1v15(), hashes.SHA256()
    )

    by_oid = {a["type"].dotted: a for a in signed_attrs}
    # ESSCertIDv2.hashAlgorithm is DEFAULT sha256, so DER leaves it out: the first element
    # of ESSCertIDv2 must be certHash (an OCTET STRING, tag 0x04).
    ess_cert_id = by_oid[SIGNING_CERTIFICATE_V2_OID]["values"][0]["certs"][0]
    assert ess_cert_id.contents[0] == 0x04
    # mime-type value is a UTF8String (tag 0x0C).
    assert by_oid[MIME_TYPE_OID]["values"][0].dump()[0] == 0x0C
    # signing-time is UTCTime (tag 0x17) before 2050.
    assert by_oid["1.2.840.113549.1.9.5"]["values"][0].chosen.tag == 23


def test_signing_time_switches_to_generalized_time_in_2050(signer: FileSigner) -> None:
    late = datetime(2051, 1, 2, 3, 4, 5, tzinfo=UTC)
    p7m = signer.sign(b"x", signing_time=late)
    by_oid = {a["type"].dotted: a for a in _signer_info(p7m)["signed_attrs"]}
    value = by_oid["1.2.840.113549.1.9.5"]["values"][0]
    assert value.name == "generalized_time"
    assert value.native == late


def test_mime_type_is_configurable(signer: FileSigner) -> None:
    p7m = signer.sign(b"<xml/>", mime_type="application/xml")
    assert parse_signed_attributes(p7m)[ATTR_MIME_TYPE] == ["application/xml"]


def test_naive_signing_time_rejected(signer: FileSigner) -> None:
    with pytest.raises(ValueError):
        signer.sign(b"x", signing_time=datetime(2030, 1, 1))


def test_verify_p7m_accepts_own_envelope(signer: FileSigner, ca_pem: bytes) -> None:
    pdf = make_pdf()
    result = verify_p7m(signer.sign(pdf), trusted_ca_pem=ca_pem)
    assert result.valid, result.errors
    assert result.errors == [] and result.warnings == []
    assert result.content == pdf
    assert result.signer_subject is not None and ORGANISATION in result.signer_subject
    assert result.signing_time is not None
    assert abs(datetime.now(UTC) - result.signing_time) < timedelta(minutes=1)


def test_verify_p7m_without_trust_anchor_checks_integrity_only(signer: FileSigner) -> None:
    assert verify_p7m(signer.sign(b"abc")).valid


def test_verify_p7m_accepts_base64_and_pem(signer: FileSigner, ca_pem: bytes) -> None:
    import base64

    p7m = signer.sign(b"hello")
    b64 = base64.encodebytes(p7m)
    pem = b"-----BEGIN PKCS7-----\n" + b64 + b"-----END PKCS7-----\n"
    assert verify_p7m(b64, trusted_ca_pem=ca_pem).content == b"hello"
    assert verify_p7m(pem, trusted_ca_pem=ca_pem).content == b"hello"


@requires_openssl3
def test_verify_p7m_accepts_openssl_ber_envelope(tmp_path: Path, pki: DevPKI) -> None:
    """Received files are often BER with indefinite lengths (checklist section 4)."""
    key, cert, _extra = pkcs12.load_key_and_certificates(pki.p12_path.read_bytes(), pki.password)
    assert key is not None and cert is not None
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pdf = make_pdf(10_000)
    (tmp_path / "in.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "openssl", "cms", "-sign", "-cades", "-nodetach", "-binary", "-stream",
            "-md", "sha256", "-outform", "DER", "-signer", str(tmp_path / "cert.pem"),
            "-inkey", str(tmp_path / "key.pem"), "-in", str(tmp_path / "in.pdf"),
            "-out", str(tmp_path / "out.p7m"),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    p7m = (tmp_path / "out.p7m").read_bytes()
    assert p7m[:2] == b"\x30\x80"  # indefinite length
    result = verify_p7m(p7m, trusted_ca_pem=pki.ca_pem_path.read_bytes())
    assert result.valid, result.errors
    assert result.content == pdf


# --------------------------------------------------------------------------------------
# (c) tampering, wrong CA, garbage
# --------------------------------------------------------------------------------------


def _flip_content_byte(p7m: bytes, pdf: bytes) -> bytes:
    offset = p7m.find(pdf)
    assert offset > 0
    position = offset + len(pdf) // 2
    tampered = bytearray(p7m)
    tampered[position] ^= 0x01
    return bytes(tampered)


@requires_openssl3
def test_tampered_content_fails_openssl(tmp_path: Path, pki: DevPKI, signer: FileSigner) -> None:
    pdf = make_pdf()
    ok, _content, _stderr = openssl_verify(
        _flip_content_byte(signer.sign(pdf), pdf), pki.ca_pem_path, tmp_path
    )
    assert not ok


def test_tampered_content_fails_verify_p7m(signer: FileSigner, ca_pem: bytes) -> None:
    pdf = make_pdf()
    result = verify_p7m(_flip_content_byte(signer.sign(pdf), pdf), trusted_ca_pem=ca_pem)
    assert not result.valid
    assert result.content is None
    assert any("message-digest" in e for e in result.errors)


def test_tampered_signature_fails(signer: FileSigner, ca_pem: bytes) -> None:
    p7m = bytearray(signer.sign(b"document"))
    signature = _signer_info(bytes(p7m))["signature"].native
    position = bytes(p7m).find(signature) + 10
    p7m[position] ^= 0xFF
    result = verify_p7m(bytes(p7m), trusted_ca_pem=ca_pem)
    assert not result.valid
    assert any("signature does not verify" in e for e in result.errors)


@requires_openssl3
def test_other_ca_fails_openssl(tmp_path: Path, other_pki: DevPKI, signer: FileSigner) -> None:
    ok, _content, _stderr = openssl_verify(signer.sign(b"doc"), other_pki.ca_pem_path, tmp_path)
    assert not ok


def test_other_ca_fails_verify_p7m(other_pki: DevPKI, signer: FileSigner) -> None:
    result = verify_p7m(signer.sign(b"doc"), trusted_ca_pem=other_pki.ca_pem_path.read_bytes())
    assert not result.valid
    assert any("not issued by the trusted CA" in e for e in result.errors)


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"garbage",
        b"\x00" * 10,
        os.urandom(2048),
        b"\x30\x03\x02\x01\x01",
        b"\x30\x82\xff\xff",
        b"-----BEGIN PKCS7-----\nnot base64!\n-----END PKCS7-----\n",
        # ContentInfo of type id-data, not signedData
        cms.ContentInfo({"content_type": "data", "content": b"x"}).dump(),
        "not bytes at all",
        None,
    ],
)
def test_garbage_is_invalid_without_raising(garbage: object) -> None:
    result = verify_p7m(garbage)  # type: ignore[arg-type]
    assert not result.valid
    assert result.content is None
    assert result.errors


def test_truncated_and_padded_envelopes_are_invalid(signer: FileSigner, ca_pem: bytes) -> None:
    p7m = signer.sign(b"document")
    for broken in (p7m[:-1], p7m[: len(p7m) // 2], p7m + b"\x00trailing"):
        result = verify_p7m(broken, trusted_ca_pem=ca_pem)
        assert not result.valid
        assert result.errors


def test_parse_signed_attributes_raises_value_error_on_garbage() -> None:
    with pytest.raises(ValueError):
        parse_signed_attributes(b"garbage")


@requires_openssl3
def test_detached_signature_is_not_a_p7m(tmp_path: Path, pki: DevPKI, signer: FileSigner) -> None:
    # Build a detached copy of a valid envelope by dropping eContent.
    info = cms.ContentInfo.load(signer.sign(b"doc"))
    info["content"]["encap_content_info"] = {"content_type": "data"}
    result = verify_p7m(info.dump(force=True), trusted_ca_pem=pki.ca_pem_path.read_bytes())
    assert not result.valid
    assert any("detached" in e for e in result.errors)


def test_duplicate_signing_time_is_rejected(pki: DevPKI, signer: FileSigner) -> None:
    p7m = signer.sign(b"doc")
    attrs = _attrs(p7m)
    extra_time = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    attrs.append(
        cms.CMSAttribute(
            {"type": "signing_time", "values": [cms.Time(name="utc_time", value=extra_time)]}
        )
    )
    result = verify_p7m(_resign(p7m, pki, attrs), trusted_ca_pem=pki.ca_pem_path.read_bytes())
    assert not result.valid
    assert result.errors == ["signed attribute signing_time must occur exactly once, found 2"]


def test_missing_signing_certificate_v2_is_rejected(pki: DevPKI, signer: FileSigner) -> None:
    p7m = signer.sign(b"doc")
    attrs = [a for a in _attrs(p7m) if a["type"].dotted != SIGNING_CERTIFICATE_V2_OID]
    result = verify_p7m(_resign(p7m, pki, attrs), trusted_ca_pem=pki.ca_pem_path.read_bytes())
    assert not result.valid
    assert result.errors == [
        "signed attribute signing_certificate_v2 must occur exactly once, found 0"
    ]


def test_wrong_cert_hash_is_rejected(pki: DevPKI, signer: FileSigner) -> None:
    p7m = signer.sign(b"doc")
    attrs = []
    for attr in _attrs(p7m):
        if attr["type"].dotted == SIGNING_CERTIFICATE_V2_OID:
            value = attr["values"][0]
            value["certs"][0]["cert_hash"] = core.OctetString(b"\x00" * 32)
            attr = cms.CMSAttribute({"type": SIGNING_CERTIFICATE_V2_OID, "values": [value]})
        attrs.append(attr)
    result = verify_p7m(_resign(p7m, pki, attrs), trusted_ca_pem=pki.ca_pem_path.read_bytes())
    assert not result.valid
    assert any("certHash" in e for e in result.errors)


def _with_signed_attrs_blob(p7m: bytes, pki: DevPKI, blob: bytes) -> bytes:
    """Put an arbitrary SET encoding into the SignerInfo and sign exactly those bytes."""
    key, _cert, _extra = pkcs12.load_key_and_certificates(pki.p12_path.read_bytes(), pki.password)
    assert isinstance(key, rsa.RSAPrivateKey)
    info = cms.ContentInfo.load(p7m)
    signer_info = info["content"]["signer_infos"][0]
    signer_info["signed_attrs"] = cms.CMSAttributes.load(blob)
    signer_info["signature"] = key.sign(blob, padding.PKCS1v15(), hashes.SHA256())
    envelope = info.dump()  # no force: asn1crypto must keep the non-DER encoding
    assert blob[4:] in envelope
    return envelope


NON_DER_WARNING = "the signature covers a non-DER encoding of the signed attributes"


def test_unsorted_attribute_set_is_tolerated_with_warning(pki: DevPKI, signer: FileSigner) -> None:
    # Checklist item 16 wants the sorted DER SET signed. OpenSSL 3.0 accepts an unsorted
    # one (it re-encodes lengths but keeps the order), so verify_p7m accepts it too, with a
    # warning.
    p7m = signer.sign(b"doc")
    body = b"".join(sorted((a.dump() for a in _attrs(p7m)), reverse=True))
    assert 255 < len(body) < 65536
    envelope = _with_signed_attrs_blob(p7m, pki, b"\x31\x82" + len(body).to_bytes(2, "big") + body)
    result = verify_p7m(envelope, trusted_ca_pem=pki.ca_pem_path.read_bytes())
    assert result.valid, result.errors
    assert result.warnings == [NON_DER_WARNING]


def _tlv(tag: int, body: bytes) -> bytes:
    length = len(body)
    if length < 0x80:
        return bytes([tag, length]) + body
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(encoded)]) + encoded + body


def test_non_minimal_length_fails_openssl_but_is_tolerated_with_warning(
    tmp_path: Path, pki: DevPKI, signer: FileSigner
) -> None:
    # A signature over a non-minimal length encoding fails OpenSSL, which verifies over its
    # own definite, minimal re-encoding (checklist item 16). asn1crypto normalises headers,
    # so the envelope is assembled by hand around a SignerInfo with a [0] length of 3 bytes.
    p7m = signer.sign(b"doc")
    body = b"".join(sorted(a.dump() for a in _attrs(p7m)))
    assert 255 < len(body) < 65536
    length = len(body).to_bytes(3, "big")
    key, _cert, _extra = pkcs12.load_key_and_certificates(pki.p12_path.read_bytes(), pki.password)
    assert isinstance(key, rsa.RSAPrivateKey)
    signature = key.sign(b"\x31\x83" + length + body, padding.PKCS1v15(), hashes.SHA256())

    signed_data = cms.ContentInfo.load(p7m)["content"]
    old = signed_data["signer_infos"][0]
    signer_info = _tlv(
        0x30,
        old["version"].dump()
        + old["sid"].dump()
        + old["digest_algorithm"].dump()
        + b"\xa0\x83" + length + body
        + old["signature_algorithm"].dump()
        + core.OctetString(signature).dump(),
    )  # fmt: skip
    signed_data_der = _tlv(
        0x30,
        signed_data["version"].dump()
        + signed_data["digest_algorithms"].dump()
        + signed_data["encap_content_info"].dump()
        + signed_data["certificates"].dump()
        + _tlv(0x31, signer_info),
    )
    envelope = _tlv(
        0x30, core.ObjectIdentifier("1.2.840.113549.1.7.2").dump() + _tlv(0xA0, signed_data_der)
    )

    result = verify_p7m(envelope, trusted_ca_pem=pki.ca_pem_path.read_bytes())
    assert result.valid, result.errors
    assert result.warnings == [NON_DER_WARNING]
    assert result.content == b"doc"
    if (_openssl_major() or 0) >= 3:
        ok, _content, _stderr = openssl_verify(envelope, pki.ca_pem_path, tmp_path)
        assert not ok


# --------------------------------------------------------------------------------------
# (d) the development PKI
# --------------------------------------------------------------------------------------


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.name: (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(directory.iterdir())
        if not p.name.startswith(".")
    }


def test_ensure_dev_pki_is_idempotent(tmp_path: Path) -> None:
    directory = tmp_path / "pki"
    first = ensure_dev_pki(directory)
    before = _snapshot(directory)
    assert set(before) == {"ca.pem", "ca-key.pem", "seal.p12"}

    second = ensure_dev_pki(directory)
    assert second == first
    assert _snapshot(directory) == before  # nothing rewritten
    cert_1 = FileSigner.from_pkcs12(first.p12_path, first.password).certificate
    cert_2 = FileSigner.from_pkcs12(second.p12_path, second.password).certificate
    assert cert_1 == cert_2


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_ensure_dev_pki_protects_secrets(pki: DevPKI) -> None:
    assert pki.ca_key_path.stat().st_mode & 0o777 == 0o600
    assert pki.p12_path.stat().st_mode & 0o777 == 0o600


def test_dev_pki_certificates(pki: DevPKI, signer: FileSigner) -> None:
    ca = x509.load_pem_x509_certificate(pki.ca_pem_path.read_bytes())
    seal = signer.certificate
    seal.verify_directly_issued_by(ca)
    assert signer.chain == [ca]

    org = x509.NameOID.ORGANIZATION_NAME
    assert seal.subject.get_attributes_for_oid(org)[0].value == ORGANISATION
    common_name = seal.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert common_name == f"{ORGANISATION} (sigillo di sviluppo)"
    assert seal.subject.get_attributes_for_oid(x509.NameOID.COUNTRY_NAME)[0].value == "IT"

    usage = seal.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment
    assert not seal.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    seal.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    aki = seal.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    seal_years = (seal.not_valid_after_utc - seal.not_valid_before_utc).days / 365
    ca_years = (ca.not_valid_after_utc - ca.not_valid_before_utc).days / 365
    assert 2.9 < seal_years < 3.1
    assert 9.9 < ca_years < 10.1


def test_ensure_dev_pki_wrong_password_is_explicit(tmp_path: Path) -> None:
    ensure_dev_pki(tmp_path, password=b"right")
    with pytest.raises(ValueError, match="password"):
        ensure_dev_pki(tmp_path, password=b"wrong")


def test_ensure_dev_pki_reissues_an_expiring_seal_from_the_same_ca(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path)
    ca_before = pki.ca_pem_path.read_bytes()
    ca_cert = x509.load_pem_x509_certificate(ca_before)
    ca_key = serialization.load_pem_private_key(pki.ca_key_path.read_bytes(), pki.password)
    assert isinstance(ca_key, rsa.RSAPrivateKey)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    short = issue_seal_certificate(
        ca_cert, ca_key, key.public_key(), organisation=ORGANISATION, validity=timedelta(hours=1)
    )
    pki.p12_path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"old", key, short, [ca_cert], serialization.BestAvailableEncryption(pki.password)
        )
    )

    ensure_dev_pki(tmp_path)
    renewed = pki.signer().certificate
    assert renewed.serial_number != short.serial_number
    assert renewed.not_valid_after_utc > datetime.now(UTC) + timedelta(days=365)
    assert pki.ca_pem_path.read_bytes() == ca_before  # same trust anchor


def test_ensure_dev_pki_long_organisation_name(tmp_path: Path) -> None:
    organisation = "Azienda Speciale Consortile per i Servizi alla Persona " * 2
    pki = ensure_dev_pki(tmp_path, organisation=organisation)
    subject = pki.signer().certificate.subject
    common_name = subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    assert isinstance(common_name, str)
    assert len(common_name) <= 64
    assert common_name.endswith("(sigillo di sviluppo)")


@pytest.mark.slow
def test_ensure_dev_pki_concurrent_first_use(tmp_path: Path) -> None:
    """Processes racing at first use must end up agreeing on one consistent PKI."""
    root = Path(certificates.pki.__file__).resolve().parents[1]
    directory = tmp_path / "race"
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {str(root)!r})
        from pathlib import Path
        from certificates.pki import ensure_dev_pki
        from certificates.signing import FileSigner
        pki = ensure_dev_pki(Path({str(directory)!r}))
        print(FileSigner.from_pkcs12(pki.p12_path, pki.password).certificate.serial_number)
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=120) for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), [err for _out, err in outputs]
    assert len({out for out, _err in outputs}) == 1

    pki = ensure_dev_pki(directory)
    result = verify_p7m(pki.signer().sign(b"doc"), trusted_ca_pem=pki.ca_pem_path.read_bytes())
    assert result.valid, result.errors


# --------------------------------------------------------------------------------------
# (e) one signer, many documents
# --------------------------------------------------------------------------------------


def test_file_signer_signs_many_documents(signer: FileSigner, ca_pem: bytes) -> None:
    documents = [make_pdf(2_000 + i) for i in range(50)]
    envelopes = [signer.sign(doc) for doc in documents]
    for doc, p7m in zip(documents, envelopes, strict=True):
        result = verify_p7m(p7m, trusted_ca_pem=ca_pem)
        assert result.valid, result.errors
        assert result.content == doc


def test_file_signer_is_safe_to_share_between_threads(signer: FileSigner, ca_pem: bytes) -> None:
    documents = [make_pdf(1_000 + i) for i in range(50)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        envelopes = list(pool.map(signer.sign, documents))
    for doc, p7m in zip(documents, envelopes, strict=True):
        result = verify_p7m(p7m, trusted_ca_pem=ca_pem)
        assert result.valid, result.errors
        assert result.content == doc


def test_file_signer_satisfies_protocol(signer: FileSigner) -> None:
    assert isinstance(signer, Signer)


def test_file_signer_rejects_mismatched_key(signer: FileSigner) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ValueError, match="does not match"):
        FileSigner(other_key, signer.certificate, signer.chain)


def test_file_signer_deduplicates_chain(signer: FileSigner, pki: DevPKI) -> None:
    key, cert, extra = pkcs12.load_key_and_certificates(pki.p12_path.read_bytes(), pki.password)
    assert isinstance(key, rsa.RSAPrivateKey) and cert is not None
    duplicated = FileSigner(key, cert, [*extra, cert, *extra])
    assert duplicated.chain == list(extra)
    certs = cms.ContentInfo.load(duplicated.sign(b"x"))["content"]["certificates"]
    assert len(certs) == 2


def test_from_pkcs12_wrong_password(pki: DevPKI) -> None:
    with pytest.raises(ValueError):
        FileSigner.from_pkcs12(pki.p12_path, "not-the-password")
