"""CAdES baseline B-B enveloping signatures (``.pdf.p7m``) for course certificates.

The envelope follows the checklist in docs/cades.md: a DER ContentInfo(id-signedData) with the
original file attached unchanged as id-data, SHA-256 digests, and exactly one each of the signed
attributes content-type, message-digest, signing-time, ESS signing-certificate-v2 and mime-type.
:func:`add_signature_timestamp` upgrades an envelope to B-T (an RFC 3161 token over the signature
value as unsigned attribute) and :func:`verify_p7m` checks such tokens.

This module deliberately has no Django dependency so it can be used from management commands,
workers and plain scripts, and so an HSM/remote signer can replace :class:`FileSigner` behind the
small :class:`Signer` protocol.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from asn1crypto import algos, cms, core, parser, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

__all__ = [
    "ATTR_CONTENT_TYPE",
    "ATTR_MESSAGE_DIGEST",
    "ATTR_MIME_TYPE",
    "ATTR_SIGNATURE_TIME_STAMP",
    "ATTR_SIGNING_CERTIFICATE_V2",
    "ATTR_SIGNING_TIME",
    "MIME_TYPE_OID",
    "REQUIRED_SIGNED_ATTRIBUTES",
    "SIGNATURE_TIME_STAMP_OID",
    "SIGNING_CERTIFICATE_V2_OID",
    "FileSigner",
    "Signer",
    "VerificationResult",
    "add_signature_timestamp",
    "envelope_certificates",
    "parse_signed_attributes",
    "signature_value",
    "verify_p7m",
]

# --------------------------------------------------------------------------------------------
# asn1crypto registrations
# --------------------------------------------------------------------------------------------

#: ESS signing-certificate-v2 (RFC 5035). asn1crypto.tsp registers it as
#: "signing_certificate_v2" on import; the import of ``tsp`` above is what makes that happen.
SIGNING_CERTIFICATE_V2_OID = "1.2.840.113549.1.9.16.2.47"
#: id-aa-ets-mimeType (ETSI EN 319 122-1 5.2.11); asn1crypto 1.5.1 does not know it.
MIME_TYPE_OID = "0.4.0.1733.2.1"


class SetOfUTF8String(core.SetOf):
    """Attribute value set for mime-type (``MimeType ::= UTF8String``)."""

    _child_spec = core.UTF8String


def _register_attribute(dotted: str, name: str, spec: type[core.Asn1Value]) -> str:
    """Teach asn1crypto a CMS attribute type; return the name asn1crypto will report for it.

    The maps are process-global, so an OID that another library already registered keeps that
    library's name instead of being silently renamed under it.
    """
    type_map = cms.CMSAttributeType._map
    registered = type_map.get(dotted)
    if registered is None:
        type_map[dotted] = name
        registered = name
        # The reverse map is built lazily once; if it already exists it must learn the new name.
        reverse_map = cms.CMSAttributeType._reverse_map
        if reverse_map is not None:
            reverse_map.setdefault(name, dotted)
    cms.CMSAttribute._oid_specs.setdefault(registered, spec)
    return registered


ATTR_CONTENT_TYPE = "content_type"
ATTR_MESSAGE_DIGEST = "message_digest"
ATTR_SIGNING_TIME = "signing_time"
ATTR_SIGNING_CERTIFICATE_V2 = _register_attribute(
    SIGNING_CERTIFICATE_V2_OID, "signing_certificate_v2", tsp.SetOfSigningCertificatesV2
)
ATTR_MIME_TYPE = _register_attribute(MIME_TYPE_OID, "mime_type", SetOfUTF8String)
#: id-aa-signatureTimeStampToken (RFC 3161 appendix A), the unsigned attribute of CAdES B-T;
#: asn1crypto registers it as "signature_time_stamp_token" (SET OF ContentInfo).
SIGNATURE_TIME_STAMP_OID = "1.2.840.113549.1.9.16.2.14"
ATTR_SIGNATURE_TIME_STAMP = _register_attribute(
    SIGNATURE_TIME_STAMP_OID, "signature_time_stamp_token", cms.SetOfContentInfo
)
#: id-kp-timeStamping: RFC 3161 2.3 requires it, as the only (critical) extended key usage.
_TIME_STAMPING_EKU = "1.3.6.1.5.5.7.3.8"

#: Attributes a B-B envelope must carry exactly once (EN 319 122-1 Table 1).
REQUIRED_SIGNED_ATTRIBUTES: tuple[str, ...] = (
    ATTR_CONTENT_TYPE,
    ATTR_MESSAGE_DIGEST,
    ATTR_SIGNING_TIME,
    ATTR_SIGNING_CERTIFICATE_V2,
)
# Optional attributes that still must not be repeated when present.
_AT_MOST_ONCE_ATTRIBUTES: tuple[str, ...] = (ATTR_MIME_TYPE,)

# Tolerated clock skew between the signer and this host when comparing signing-time.
_CLOCK_SKEW = timedelta(minutes=5)

# RFC 5754: SHA-2 AlgorithmIdentifiers are generated with absent parameters. asn1crypto would
# add NULL unless parameters is explicitly None.
_SHA256_DER = algos.DigestAlgorithm({"algorithm": "sha256", "parameters": None}).dump()
_SIG_ALG_DER = {
    "rsa": algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"}).dump(),  # NULL params
    "ec": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}).dump(),  # no params
}
_HASHLIB_NAMES = {"sha256": "sha256", "sha384": "sha384", "sha512": "sha512"}
_CRYPTO_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


# --------------------------------------------------------------------------------------------
# Signing
# --------------------------------------------------------------------------------------------


@runtime_checkable
class Signer(Protocol):
    """Anything that can produce a CAdES B-B ``.p7m`` (file key today, HSM/remote later)."""

    @property
    def certificate(self) -> x509.Certificate:
        """The signer (electronic seal) certificate."""
        ...

    @property
    def chain(self) -> list[x509.Certificate]:
        """Extra certificates embedded in the envelope, CA included, signer excluded."""
        ...

    def sign(self, data: bytes, *, mime_type: str = "application/pdf") -> bytes:
        """Return the DER ``.p7m`` enveloping ``data`` unchanged."""
        ...


SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _spki(key: Any) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _cms_time(moment: datetime) -> cms.Time:
    # RFC 5652 11.3: UTCTime for 1950-2049, GeneralizedTime otherwise.
    if 1950 <= moment.year < 2050:
        return cms.Time(name="utc_time", value=moment)
    return cms.Time(name="generalized_time", value=moment)


class FileSigner:
    """Signs with a software key held in memory (loaded from PKCS#12 or passed in).

    The key is parsed once at construction: decrypting a PKCS#12 costs hundreds of
    milliseconds, a signature about one. Instances hold only immutable state and build fresh
    ASN.1 objects per call (asn1crypto caches encodings inside objects, so sharing them between
    threads would not be safe), hence one instance can be shared by all threads.
    """

    def __init__(
        self,
        private_key: SigningKey,
        certificate: x509.Certificate,
        chain: Iterable[x509.Certificate] = (),
    ) -> None:
        if isinstance(private_key, rsa.RSAPrivateKey):
            self._key_kind = "rsa"
        elif isinstance(private_key, ec.EllipticCurvePrivateKey):
            self._key_kind = "ec"
        else:
            raise TypeError(
                f"unsupported key type {type(private_key).__name__}: only RSA and EC keys"
            )
        # Fail at start-up rather than emitting envelopes that no verifier accepts.
        if _spki(private_key.public_key()) != _spki(certificate.public_key()):
            raise ValueError("private key does not match the signer certificate")

        self._key: SigningKey = private_key
        self._certificate = certificate
        signer_der = _der(certificate)

        # EN 319 122-1 6.3: no duplicate certificates in SignedData.certificates.
        seen = {signer_der}
        extra: list[x509.Certificate] = []
        for cert in chain:
            der = _der(cert)
            if der not in seen:
                seen.add(der)
                extra.append(cert)
        self._chain = tuple(extra)
        self._cert_set_der = cms.CertificateSet(
            [
                cms.CertificateChoices(name="certificate", value=asn1_x509.Certificate.load(der))
                for der in (signer_der, *(_der(c) for c in extra))
            ]
        ).dump()

        # Everything that does not depend on the document is encoded once, as bytes, and
        # re-loaded per signature (cheap, lazy parsing) to keep instances immutable.
        asn1_cert = asn1_x509.Certificate.load(signer_der)
        self._sid_der = cms.SignerIdentifier(
            name="issuer_and_serial_number",
            value={"issuer": asn1_cert.issuer, "serial_number": asn1_cert.serial_number},
        ).dump()
        ess_cert_id = tsp.ESSCertIDv2(
            {
                # hash_algorithm left out: DEFAULT sha256, so DER must omit it (RFC 5035).
                "cert_hash": hashlib.sha256(signer_der).digest(),
                "issuer_serial": {
                    "issuer": [
                        asn1_x509.GeneralName(name="directory_name", value=asn1_cert.issuer)
                    ],
                    "serial_number": asn1_cert.serial_number,
                },
            }
        )
        self._signing_cert_attr_der = cms.CMSAttribute(
            {
                "type": SIGNING_CERTIFICATE_V2_OID,
                "values": [tsp.SigningCertificateV2({"certs": [ess_cert_id]})],
            }
        ).dump()

    # -- construction helpers ------------------------------------------------------------

    @classmethod
    def from_pkcs12(cls, path: str | os.PathLike[str], password: str | bytes | None) -> FileSigner:
        """Load key, certificate and chain from a PKCS#12 (``.p12``/``.pfx``) file."""
        with open(path, "rb") as fh:
            blob = fh.read()
        return cls.from_pkcs12_bytes(blob, password)

    @classmethod
    def from_pkcs12_bytes(cls, blob: bytes, password: str | bytes | None) -> FileSigner:
        """Like :meth:`from_pkcs12` for an in-memory PKCS#12 (e.g. from a secret store)."""
        secret = password.encode("utf-8") if isinstance(password, str) else password
        key, cert, additional = pkcs12.load_key_and_certificates(blob, secret)
        if key is None or cert is None:
            raise ValueError("PKCS#12 must contain both a private key and its certificate")
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise TypeError(f"unsupported key type in PKCS#12: {type(key).__name__}")
        return cls(key, cert, additional or ())

    # -- Signer protocol -----------------------------------------------------------------

    @property
    def certificate(self) -> x509.Certificate:
        return self._certificate

    @property
    def chain(self) -> list[x509.Certificate]:
        # A copy: the embedded set was fixed at construction and must not drift from it.
        return list(self._chain)

    def __repr__(self) -> str:
        return f"<FileSigner {self._certificate.subject.rfc4514_string()!r} ({self._key_kind})>"

    def sign(
        self,
        data: bytes,
        *,
        mime_type: str = "application/pdf",
        signing_time: datetime | None = None,
    ) -> bytes:
        """Return a DER CAdES B-B ``.p7m`` with ``data`` attached unchanged.

        ``signing_time`` exists for tests and re-signing tools; it must be timezone-aware and
        defaults to now (UTC). Sub-second precision is dropped because UTCTime has none.
        """
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError("data must be bytes")
        if not isinstance(mime_type, str) or not mime_type:
            raise ValueError("mime_type must be a non-empty string")
        content = bytes(data)
        moment = _utc_now() if signing_time is None else signing_time
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("signing_time must be timezone-aware")
        moment = moment.astimezone(UTC).replace(microsecond=0)

        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": ATTR_CONTENT_TYPE, "values": ["data"]}),
                cms.CMSAttribute(
                    {
                        "type": ATTR_MESSAGE_DIGEST,
                        "values": [hashlib.sha256(content).digest()],
                    }
                ),
                cms.CMSAttribute({"type": ATTR_SIGNING_TIME, "values": [_cms_time(moment)]}),
                cms.CMSAttribute.load(self._signing_cert_attr_der),
                cms.CMSAttribute({"type": MIME_TYPE_OID, "values": [core.UTF8String(mime_type)]}),
            ]
        )
        # RFC 5652 5.4: the signature covers the DER SET OF (tag 0x31); asn1crypto sorts the
        # SET OF elements when encoding, which DER requires.
        signed_attrs_der = signed_attrs.dump()
        signature = self._raw_sign(signed_attrs_der)

        signer_info = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier.load(self._sid_der),
                "digest_algorithm": algos.DigestAlgorithm.load(_SHA256_DER),
                # Re-tagged to [0] IMPLICIT; the contents stay byte-identical to what was signed.
                "signed_attrs": cms.CMSAttributes.load(signed_attrs_der),
                "signature_algorithm": algos.SignedDigestAlgorithm.load(
                    _SIG_ALG_DER[self._key_kind]
                ),
                "signature": signature,
            }
        )
        signed_data = cms.SignedData(
            {
                "version": "v1",
                "digest_algorithms": [algos.DigestAlgorithm.load(_SHA256_DER)],
                "encap_content_info": {"content_type": "data", "content": content},
                "certificates": cms.CertificateSet.load(self._cert_set_der),
                "signer_infos": [signer_info],
            }
        )
        # Wrapping a re-loaded SignedData is cheaper than letting asn1crypto deep-copy the
        # built object to apply the [0] EXPLICIT tag (about 0.3 ms per signature).
        return cms.ContentInfo(
            {"content_type": "signed_data", "content": cms.SignedData.load(signed_data.dump())}
        ).dump()

    def _raw_sign(self, message: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(message, padding.PKCS1v15(), hashes.SHA256())
        # cryptography returns the DER Ecdsa-Sig-Value that CMS expects.
        return self._key.sign(message, ec.ECDSA(hashes.SHA256()))


# --------------------------------------------------------------------------------------------
# Verification
# --------------------------------------------------------------------------------------------


@dataclass
class VerificationResult:
    """Outcome of :func:`verify_p7m`.

    ``content`` is only set when ``valid`` is true, so unverified bytes cannot be used by
    mistake; ``signer_subject`` and ``signing_time`` are informational and may be set even on
    failure. ``warnings`` lists tolerated deviations (e.g. a non-DER attribute set).
    """

    valid: bool
    content: bytes | None = None
    signer_subject: str | None = None
    signing_time: datetime | None = None
    #: CAdES B-T: the TSA's time in the signature time-stamp, once the token checked out.
    timestamp_time: datetime | None = None
    timestamp_authority: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _EnvelopeError(Exception):
    """A structural problem that makes further checks meaningless."""


def _decode_envelope(p7m: bytes) -> bytes:
    # Checklist item 4: a .p7m may be DER/BER or base64 (with or without PEM armour).
    if p7m[:1] == b"\x30":
        return p7m
    lines = [line for line in p7m.strip().splitlines() if not line.startswith(b"-----")]
    try:
        decoded = base64.b64decode(b"".join(b"".join(lines).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _EnvelopeError("not a DER/BER or base64 CMS structure") from exc
    if decoded[:1] != b"\x30":
        raise _EnvelopeError("not a DER/BER or base64 CMS structure")
    return decoded


def _load_signed_data(p7m: bytes) -> cms.SignedData:
    if not isinstance(p7m, (bytes, bytearray, memoryview)):
        raise _EnvelopeError(f"expected bytes, got {type(p7m).__name__}")
    raw = _decode_envelope(bytes(p7m))
    try:
        info = cms.ContentInfo.load(raw, strict=True)
        content_type = info["content_type"].dotted
    except Exception as exc:  # asn1crypto raises ValueError/TypeError/OverflowError freely
        raise _EnvelopeError(f"malformed CMS ContentInfo: {exc}") from exc
    if content_type != "1.2.840.113549.1.7.2":
        raise _EnvelopeError(f"ContentInfo is {content_type}, not id-signedData")
    return info["content"]


def _attribute_name(attr: cms.CMSAttribute) -> str:
    native = attr["type"].native
    return native if isinstance(native, str) else attr["type"].dotted


def _collect_attributes(attrs: cms.CMSAttributes) -> dict[str, list[Any]]:
    """Attribute name -> flattened list of parsed value objects (not natives)."""
    found: dict[str, list[Any]] = {}
    for attr in attrs:
        found.setdefault(_attribute_name(attr), []).extend(attr["values"])
    return found


def parse_signed_attributes(p7m: bytes) -> dict[str, list[Any]]:
    """Return signed-attribute name -> list of native values of the first SignerInfo.

    Values of repeated attributes (or multi-valued ones) are flattened, so "exactly once"
    means ``len(result[name]) == 1``. Names are asn1crypto's (``content_type``,
    ``message_digest``, ``signing_time``, ``signing_certificate_v2``, ``mime_type``); unknown
    attributes appear under their dotted OID. Raises ``ValueError`` on malformed input.
    """
    try:
        signed_data = _load_signed_data(p7m)
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) == 0:
            raise _EnvelopeError("no SignerInfo")
        attrs = signer_infos[0]["signed_attrs"]
        if isinstance(attrs, core.Void):
            return {}
        return {
            name: [value.native for value in values]
            for name, values in _collect_attributes(attrs).items()
        }
    except _EnvelopeError as exc:
        raise ValueError(str(exc)) from exc
    except Exception as exc:  # normalise asn1crypto's assorted exceptions
        raise ValueError(f"malformed CMS structure: {exc}") from exc


def envelope_certificates(p7m: bytes) -> tuple[x509.Certificate, list[x509.Certificate]]:
    """The signer's certificate and the other certificates embedded in a ``.p7m``.

    Parsing only: nothing is verified. Raises ValueError on anything but a one-signer envelope.
    """
    try:
        signed_data = _load_signed_data(p7m)
        signer_infos = signed_data["signer_infos"]
        if len(signer_infos) != 1:
            raise _EnvelopeError(f"expected exactly one SignerInfo, found {len(signer_infos)}")
        signer_der = _find_signer_certificate(signed_data, signer_infos[0]["sid"]).dump()
        others = [
            choice.chosen.dump()
            for choice in (signed_data["certificates"] or [])
            if choice.name == "certificate"
        ]
    except _EnvelopeError as exc:
        raise ValueError(str(exc)) from exc
    except Exception as exc:  # normalise asn1crypto's assorted exceptions
        raise ValueError(f"malformed CMS structure: {exc}") from exc
    return x509.load_der_x509_certificate(signer_der), [
        x509.load_der_x509_certificate(der) for der in others if der != signer_der
    ]


def _only_signer_info(signed_data: cms.SignedData) -> cms.SignerInfo:
    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise _EnvelopeError(f"expected exactly one SignerInfo, found {len(signer_infos)}")
    return signer_infos[0]


def signature_value(p7m: bytes) -> bytes:
    """The signature octets of a one-signer ``.p7m``: what a signature time-stamp is over."""
    try:
        return bytes(_only_signer_info(_load_signed_data(p7m))["signature"].native)
    except _EnvelopeError as exc:
        raise ValueError(str(exc)) from exc
    except Exception as exc:  # normalise asn1crypto's assorted exceptions
        raise ValueError(f"malformed CMS structure: {exc}") from exc


def add_signature_timestamp(p7m: bytes, token: bytes) -> bytes:
    """The ``.p7m`` upgraded to CAdES B-T: ``token`` added as the signature-time-stamp.

    The token is an RFC 3161 TimeStampToken (DER ContentInfo) whose message imprint is the
    SHA-256 of :func:`signature_value`. Unsigned attributes are outside the signature, so the
    content, the signed attributes and the signature stay byte for byte as they were; an
    earlier time-stamp is replaced (one per signature is what B-T asks for).
    """
    try:
        _load_signed_data(p7m)  # the checks and the error messages
        info = cms.ContentInfo.load(_decode_envelope(bytes(p7m)))
        signed_data = info["content"]
        signer_info = _only_signer_info(signed_data)
        token_info = cms.ContentInfo.load(token, strict=True)
        kept = []
        if not isinstance(signer_info["unsigned_attrs"], core.Void):
            kept = [
                attr
                for attr in signer_info["unsigned_attrs"]
                if _attribute_name(attr) != ATTR_SIGNATURE_TIME_STAMP
            ]
        signer_info["unsigned_attrs"] = cms.CMSAttributes(
            [*kept, cms.CMSAttribute({"type": SIGNATURE_TIME_STAMP_OID, "values": [token_info]})]
        )
        # Only the SignerInfo is re-encoded: asn1crypto keeps every untouched part as read.
        return info.dump()
    except _EnvelopeError as exc:
        raise ValueError(str(exc)) from exc
    except Exception as exc:  # normalise asn1crypto's assorted exceptions
        raise ValueError(f"malformed CMS structure: {exc}") from exc


def _find_signer_certificate(
    signed_data: cms.SignedData, sid: cms.SignerIdentifier
) -> asn1_x509.Certificate:
    certs = [
        choice.chosen
        for choice in (signed_data["certificates"] or [])
        if choice.name == "certificate"
    ]
    if sid.name == "issuer_and_serial_number":
        issuer = sid.chosen["issuer"]
        serial = sid.chosen["serial_number"].native
        for cert in certs:
            if cert.serial_number == serial and cert.issuer.hashable == issuer.hashable:
                return cert
    elif sid.name == "subject_key_identifier":
        for cert in certs:
            if cert.key_identifier == sid.chosen.native:
                return cert
    raise _EnvelopeError("signer certificate not found in SignedData.certificates")


def _verify_raw_signature(
    public_key: Any, signature_algo: str, hash_name: str, signature: bytes, message: bytes
) -> bool:
    hash_algo = _CRYPTO_HASHES[hash_name]()
    try:
        if signature_algo == "rsassa_pkcs1v15" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, message, padding.PKCS1v15(), hash_algo)
        elif signature_algo == "ecdsa" and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, message, ec.ECDSA(hash_algo))
        else:
            raise _EnvelopeError(
                f"signature algorithm {signature_algo} does not match the signer's "
                f"{type(public_key).__name__}"
            )
    except InvalidSignature:
        return False
    return True


def _check_certificate_trust(
    cert: x509.Certificate,
    trusted_ca_pem: bytes,
    now: datetime,
    errors: list[str],
) -> None:
    try:
        anchors = x509.load_pem_x509_certificates(trusted_ca_pem)
    except ValueError as exc:
        errors.append(f"trusted CA PEM could not be parsed: {exc}")
        return
    cert_der = _der(cert)
    for anchor in anchors:
        if _der(anchor) == cert_der:
            issuer: x509.Certificate | None = anchor  # the signer is itself a trust anchor
        else:
            try:
                cert.verify_directly_issued_by(anchor)
            except (ValueError, TypeError, InvalidSignature):
                continue
            issuer = anchor
        if not issuer.not_valid_before_utc <= now <= issuer.not_valid_after_utc:
            errors.append("the issuing CA certificate is outside its validity period")
        return
    errors.append("signer certificate is not issued by the trusted CA")


def _check_signer_certificate(
    cert: x509.Certificate, signing_time: datetime | None, now: datetime, errors: list[str]
) -> None:
    # B-B carries no time-stamp, so the certificate must be valid now (checklist item 20), or
    # at the moment the caller's own records say the file was signed.
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        errors.append("signer certificate is outside its validity period")
    if signing_time is not None and not (
        cert.not_valid_before_utc - _CLOCK_SKEW
        <= signing_time
        <= cert.not_valid_after_utc + _CLOCK_SKEW
    ):
        errors.append("signing-time is outside the signer certificate's validity period")
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        errors.append("signer certificate keyUsage allows neither signatures nor seals")


def verify_p7m(
    p7m: bytes,
    *,
    trusted_ca_pem: bytes | None = None,
    at: datetime | None = None,
    trusted_tsa_pem: bytes | None = None,
) -> VerificationResult:
    """Verify a CAdES B-B or B-T ``.p7m`` with one signer; never raises on bad input.

    Without ``trusted_ca_pem`` a valid result proves only integrity and self-consistency (the
    embedded certificate made the signature); with it, the signer certificate must be directly
    issued by one of the PEM certificates. Revocation is not checked.

    Certificates are checked for validity ``at`` the given moment, default now. B-B has no
    time-stamp, so only a caller that knows independently when the file was signed (the issuer's
    own record of it) may pass that moment, e.g. to verify a file after its seal expired.

    A signature time-stamp (B-T), when present, must be over this signature and made by a
    time-stamping certificate (directly issued by ``trusted_tsa_pem`` when given); its time is
    reported as ``timestamp_time`` and, without ``at``, is the moment certificates are checked
    at: the time-stamp proves the signature existed then.
    """
    if at is not None and (at.tzinfo is None or at.utcoffset() is None):
        raise ValueError("at must be timezone-aware")
    result = VerificationResult(valid=False)
    try:
        _verify_into(p7m, trusted_ca_pem, result, at, trusted_tsa_pem)
    except _EnvelopeError as exc:
        result.errors.append(str(exc))
    except Exception as exc:  # garbage must yield a result, whatever asn1crypto raises
        result.errors.append(f"malformed CMS structure: {type(exc).__name__}: {exc}")
    if result.errors:
        result.valid = False
        result.content = None
    return result


def _verify_into(
    p7m: bytes,
    trusted_ca_pem: bytes | None,
    result: VerificationResult,
    at: datetime | None,
    trusted_tsa_pem: bytes | None = None,
) -> None:
    errors = result.errors
    signed_data = _load_signed_data(p7m)

    encap = signed_data["encap_content_info"]
    if encap["content_type"].dotted != "1.2.840.113549.1.7.1":
        raise _EnvelopeError(f"eContentType is {encap['content_type'].dotted}, not id-data")
    if isinstance(encap["content"], core.Void):
        raise _EnvelopeError("detached signature: eContent is absent (a .p7m must enclose it)")
    # bytes() on an OctetString joins BER constructed chunks too.
    content = bytes(encap["content"])

    signer_infos = signed_data["signer_infos"]
    if len(signer_infos) != 1:
        raise _EnvelopeError(f"expected exactly one SignerInfo, found {len(signer_infos)}")
    signer_info = signer_infos[0]

    asn1_cert = _find_signer_certificate(signed_data, signer_info["sid"])
    cert_der = asn1_cert.dump()
    cert = x509.load_der_x509_certificate(cert_der)
    result.signer_subject = cert.subject.rfc4514_string()

    digest_name = signer_info["digest_algorithm"]["algorithm"].native
    if digest_name != "sha256":
        errors.append(f"digest algorithm is {digest_name}, SHA-256 is required")
    hash_name = digest_name if digest_name in _HASHLIB_NAMES else "sha256"

    signed_attrs = signer_info["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        raise _EnvelopeError("SignerInfo has no signed attributes (CAdES requires them)")
    # Take the encodings before any child is parsed: asn1crypto may re-encode parsed children.
    attr_encodings = _signed_attrs_encodings(signed_attrs)
    attrs = _collect_attributes(signed_attrs)
    counts = Counter({name: len(values) for name, values in attrs.items()})
    for name in REQUIRED_SIGNED_ATTRIBUTES:
        if counts[name] != 1:
            errors.append(f"signed attribute {name} must occur exactly once, found {counts[name]}")
    for name in _AT_MOST_ONCE_ATTRIBUTES:
        if counts[name] > 1:
            errors.append(f"signed attribute {name} must occur at most once")

    if counts[ATTR_CONTENT_TYPE] >= 1:
        declared = attrs[ATTR_CONTENT_TYPE][0].dotted
        if declared != encap["content_type"].dotted:
            errors.append("content-type attribute does not match eContentType")
    if counts[ATTR_MESSAGE_DIGEST] >= 1:
        expected = hashlib.new(_HASHLIB_NAMES[hash_name], content).digest()
        if attrs[ATTR_MESSAGE_DIGEST][0].native != expected:
            errors.append("message-digest does not match the content")
    if counts[ATTR_SIGNING_TIME] >= 1:
        moment = attrs[ATTR_SIGNING_TIME][0].native
        if isinstance(moment, datetime):
            result.signing_time = moment.astimezone(UTC)
    if counts[ATTR_SIGNING_CERTIFICATE_V2] >= 1:
        _check_signing_certificate_v2(attrs[ATTR_SIGNING_CERTIFICATE_V2][0], asn1_cert, errors)

    _check_signature(signer_info, attr_encodings, cert, hash_name, result)
    _check_signature_timestamp(signer_info, trusted_tsa_pem, result)

    if at is not None:
        now = at.astimezone(UTC)
    elif result.timestamp_time is not None:
        now = result.timestamp_time
    else:
        now = _utc_now()
    _check_signer_certificate(cert, result.signing_time, now, errors)
    if trusted_ca_pem is not None:
        _check_certificate_trust(cert, trusted_ca_pem, now, errors)

    if not errors:
        result.valid = True
        result.content = content


def _check_signing_certificate_v2(
    value: tsp.SigningCertificateV2, asn1_cert: asn1_x509.Certificate, errors: list[str]
) -> None:
    certs = value["certs"]
    if len(certs) == 0:
        errors.append("signing-certificate-v2 lists no certificate")
        return
    # RFC 5035: the first ESSCertIDv2 identifies the signer's certificate.
    first = certs[0]
    algo = first["hash_algorithm"]["algorithm"].native
    if algo not in _HASHLIB_NAMES:
        errors.append(f"signing-certificate-v2 uses unsupported hash {algo}")
        return
    if first["cert_hash"].native != hashlib.new(_HASHLIB_NAMES[algo], asn1_cert.dump()).digest():
        errors.append("signing-certificate-v2 certHash does not match the signer certificate")
    issuer_serial = first["issuer_serial"]
    if issuer_serial.native is not None:
        names = [gn.chosen for gn in issuer_serial["issuer"] if gn.name == "directory_name"]
        if issuer_serial["serial_number"].native != asn1_cert.serial_number or not any(
            name.hashable == asn1_cert.issuer.hashable for name in names
        ):
            errors.append("signing-certificate-v2 issuerSerial does not match the signer")


def _der_length(length: int) -> bytes:
    if length < 0x80:
        return bytes([length])
    encoded = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(encoded)]) + encoded


def _signed_attrs_encodings(signed_attrs: cms.CMSAttributes) -> list[bytes]:
    """Candidate byte strings the signer may have signed, the required one first.

    1. DER (RFC 5652 5.4): definite lengths, SET OF elements sorted. This is what we emit.
    2. Received element order with definite lengths: what OpenSSL 3 re-encodes to (its
       CMS_Attributes_Verify template keeps the order), so unsorted sets pass there.
    3. The bytes exactly as received (e.g. indefinite or non-minimal lengths).

    Elements are kept as received, which is far cheaper than asn1crypto's recursive
    ``dump(force=True)`` (about 50 ms per envelope) and equal to it for DER input.
    """
    contents = signed_attrs.contents
    elements = []
    offset = 0
    while offset < len(contents):
        size = parser.peek(contents[offset:])
        elements.append(contents[offset : offset + size])
        offset += size
    candidates = []
    for body in (b"".join(sorted(elements)), b"".join(elements)):
        candidates.append(b"\x31" + _der_length(len(body)) + body)
    candidates.append(b"\x31" + signed_attrs.dump()[1:])  # [0] IMPLICIT -> SET tag
    return list(dict.fromkeys(candidates))  # drop duplicates, keep priority order


def _check_signature(
    signer_info: cms.SignerInfo,
    attr_encodings: list[bytes],
    cert: x509.Certificate,
    hash_name: str,
    result: VerificationResult,
) -> None:
    sig_alg = signer_info["signature_algorithm"]
    try:
        signature_algo = sig_alg.signature_algo
    except ValueError:
        result.errors.append(f"unsupported signature algorithm {sig_alg['algorithm'].dotted}")
        return
    if signature_algo not in ("rsassa_pkcs1v15", "ecdsa"):
        result.errors.append(f"unsupported signature algorithm {signature_algo}")
        return
    try:
        embedded_hash = sig_alg.hash_algo  # e.g. sha256 for sha256WithRSAEncryption
    except ValueError:
        embedded_hash = None  # rsaEncryption / id-ecPublicKey: hash comes from digestAlgorithm
    if embedded_hash is not None and embedded_hash != hash_name:
        result.errors.append(
            f"signature algorithm hash {embedded_hash} differs from digest algorithm {hash_name}"
        )
        return

    signature = signer_info["signature"].native
    public_key = cert.public_key()
    for index, encoding in enumerate(attr_encodings):
        if _verify_raw_signature(public_key, signature_algo, hash_name, signature, encoding):
            if index:
                # Sound signature over the bytes we parsed, but not over the DER form that
                # RFC 5652 requires: some verifiers will reject this envelope.
                result.warnings.append(
                    "the signature covers a non-DER encoding of the signed attributes"
                )
            return
    result.errors.append("signature does not verify with the signer certificate's public key")


def _check_signature_timestamp(
    signer_info: cms.SignerInfo, trusted_tsa_pem: bytes | None, result: VerificationResult
) -> None:
    """CAdES B-T: check each signature-time-stamp token; report the earliest good time."""
    unsigned = signer_info["unsigned_attrs"]
    if isinstance(unsigned, core.Void):
        return
    tokens = _collect_attributes(unsigned).get(ATTR_SIGNATURE_TIME_STAMP, [])
    signature = bytes(signer_info["signature"].native)
    for token in tokens:
        errors: list[str] = []
        try:
            moment, authority = _check_timestamp_token(token, signature, trusted_tsa_pem, errors)
        except _EnvelopeError as exc:
            errors.append(str(exc))
        except Exception as exc:  # a malformed token must yield a result, not a crash
            errors.append(f"malformed token: {type(exc).__name__}: {exc}")
        if not errors and result.signing_time and moment < result.signing_time - _CLOCK_SKEW:
            errors.append("the time-stamp is earlier than the signing-time")
        if errors:
            result.errors.extend(f"signature time-stamp: {error}" for error in errors)
            continue
        if result.timestamp_time is None or moment < result.timestamp_time:
            result.timestamp_time, result.timestamp_authority = moment, authority


def _check_timestamp_token(
    token: cms.ContentInfo, signature: bytes, trusted_tsa_pem: bytes | None, errors: list[str]
) -> tuple[datetime, str]:
    if token["content_type"].native != "signed_data":
        raise _EnvelopeError("the token is not a SignedData")
    signed_data = token["content"]
    encap = signed_data["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise _EnvelopeError("the token does not enclose a TSTInfo")
    tst_der = encap["content"].contents
    tst_info = tsp.TSTInfo.load(tst_der)
    imprint = tst_info["message_imprint"]
    imprint_hash = imprint["hash_algorithm"]["algorithm"].native
    if imprint_hash not in _HASHLIB_NAMES:
        raise _EnvelopeError(f"unsupported message imprint hash {imprint_hash}")
    if imprint["hashed_message"].native != hashlib.new(imprint_hash, signature).digest():
        errors.append("the message imprint is not the hash of this signature")

    token_signer = _only_signer_info(signed_data)
    tsa_asn1 = _find_signer_certificate(signed_data, token_signer["sid"])
    tsa_cert = x509.load_der_x509_certificate(tsa_asn1.dump())
    digest_name = token_signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHLIB_NAMES:
        raise _EnvelopeError(f"unsupported digest algorithm {digest_name}")
    signed_attrs = token_signer["signed_attrs"]
    if isinstance(signed_attrs, core.Void):
        raise _EnvelopeError("the token's SignerInfo has no signed attributes")
    encodings = _signed_attrs_encodings(signed_attrs)
    attrs = _collect_attributes(signed_attrs)
    content_types = attrs.get(ATTR_CONTENT_TYPE, [])
    if len(content_types) != 1 or content_types[0].native != "tst_info":
        errors.append("the token's content-type attribute is not id-ct-TSTInfo")
    digests = attrs.get(ATTR_MESSAGE_DIGEST, [])
    if len(digests) != 1 or digests[0].native != hashlib.new(digest_name, tst_der).digest():
        errors.append("the token's message-digest does not match its TSTInfo")
    scratch = VerificationResult(valid=False)
    _check_signature(token_signer, encodings, tsa_cert, digest_name, scratch)
    errors.extend(scratch.errors)

    moment = tst_info["gen_time"].native.astimezone(UTC)
    try:
        usage = tsa_cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
        if [oid.dotted_string for oid in usage.value] != [_TIME_STAMPING_EKU] or not usage.critical:
            errors.append("the TSA certificate's only extended key usage is not timeStamping")
    except x509.ExtensionNotFound:
        errors.append("the TSA certificate has no timeStamping extended key usage")
    if not tsa_cert.not_valid_before_utc <= moment <= tsa_cert.not_valid_after_utc:
        errors.append("the TSA certificate was not valid at the time-stamp's time")
    if trusted_tsa_pem is not None:
        trust_errors: list[str] = []
        _check_certificate_trust(tsa_cert, trusted_tsa_pem, moment, trust_errors)
        errors.extend(error.replace("signer", "TSA") for error in trust_errors)
    return moment, tsa_cert.subject.rfc4514_string()
