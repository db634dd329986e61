"""Development PKI: a throw-away CA and the organiser's electronic-seal certificate.

Envelopes signed with this PKI are technically valid CAdES B-B but have NO legal value: legal
value needs a qualified seal certificate from a QTSP on the EU/AgID trusted list (checklist
item 19 in docs/cades.md). This module exists so development, CI and demo
environments sign the same way production will, just with a home-made trust anchor.

Key choice (measured on the dev box with cryptography 50): RSA-2048 signs in about 1.1 ms,
RSA-3072 in about 3.2 ms, P-256 in about 0.06 ms. The seal uses RSA-2048 and the CA RSA-3072:
the seal stays well under the 10 ms budget, and RSA is what Italian QTSPs issue for seals, so
development exercises the same code path (sha256WithRSAEncryption) as production.

No Django import here: the module is used by management commands, tests and benchmarks alike.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows development machines
    fcntl = None  # type: ignore[assignment]
    import msvcrt

if TYPE_CHECKING:
    from certificates.signing import FileSigner

__all__ = [
    "CA_KEY_FILENAME",
    "CA_PEM_FILENAME",
    "SEAL_P12_FILENAME",
    "DevPKI",
    "ensure_dev_pki",
    "issue_seal_certificate",
]

CA_PEM_FILENAME = "ca.pem"
CA_KEY_FILENAME = "ca-key.pem"
SEAL_P12_FILENAME = "seal.p12"
_LOCK_FILENAME = ".pki.lock"

CA_KEY_SIZE = 3072
SEAL_KEY_SIZE = 2048
CA_VALIDITY = timedelta(days=10 * 365 + 2)
SEAL_VALIDITY = timedelta(days=3 * 365 + 1)
# Back-date certificates slightly so hosts with a lagging clock accept them immediately.
_BACKDATE = timedelta(minutes=5)
# X.520 upper bounds; cryptography rejects a longer commonName outright.
_MAX_NAME_LENGTH = 64
# Kept moderate: the seal is loaded once per process, but tests create many PKIs.
_P12_KDF_ROUNDS = 50_000

IssuerKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
SubjectPublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey


@dataclass(frozen=True)
class DevPKI:
    """Paths of a development PKI created by :func:`ensure_dev_pki`."""

    ca_pem_path: Path
    p12_path: Path
    password: bytes

    @property
    def ca_key_path(self) -> Path:
        """The CA private key (PEM, 0600, encrypted with ``password``), next to ``ca.pem``."""
        return self.ca_pem_path.with_name(CA_KEY_FILENAME)

    def signer(self) -> FileSigner:
        """Load the seal as a :class:`~certificates.signing.FileSigner` (do this once)."""
        from certificates.signing import FileSigner

        return FileSigner.from_pkcs12(self.p12_path, self.password)


def _fit(text: str, suffix: str = "") -> str:
    """Shorten ``text`` so that ``text + suffix`` fits an X.520 64-character name.

    cryptography enforces the bound on the UTF-8 length, so accented names count double.
    """
    if len((text + suffix).encode("utf-8")) <= _MAX_NAME_LENGTH:
        return text + suffix
    while text and len((text + "…" + suffix).encode("utf-8")) > _MAX_NAME_LENGTH:
        text = text[:-1]
    return text.rstrip() + "…" + suffix


def _name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, _fit(organisation)),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _create_ca(organisation: str) -> tuple[x509.Certificate, rsa.RSAPrivateKey]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=CA_KEY_SIZE)
    name = _name(organisation, _fit(organisation, " - CA di sviluppo"))
    now = _now()
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return cert, key


def issue_seal_certificate(
    ca_cert: x509.Certificate,
    ca_key: IssuerKey,
    public_key: SubjectPublicKey,
    *,
    organisation: str,
    validity: timedelta = SEAL_VALIDITY,
) -> x509.Certificate:
    """Issue an electronic-seal certificate for ``public_key`` from the development CA.

    Exposed so tests can issue extra seals (e.g. an EC one) from the same trust anchor.
    """
    now = _now()
    ca_ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    not_after = min(now + validity, ca_cert.not_valid_after_utc)  # never outlive the CA
    return (
        x509.CertificateBuilder()
        .subject_name(_name(organisation, _fit(organisation, " (sigillo di sviluppo)")))
        .issuer_name(ca_cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation: the usage of a seal
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _p12_encryption(password: bytes) -> serialization.KeySerializationEncryption:
    if not password:
        return serialization.NoEncryption()
    # Explicit modern parameters (AES-256 + SHA-256 MAC) that OpenSSL 3 reads without the
    # legacy provider.
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(_P12_KDF_ROUNDS)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password)
    )


def _pem_encryption(password: bytes) -> serialization.KeySerializationEncryption:
    if not password:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(password)


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    """Write via a temp file in the same directory and rename: readers never see a torn file."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        # mkstemp already creates 0600, so secrets are never briefly world-readable.
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


@contextmanager
def _exclusive_lock(path: Path) -> Iterator[None]:
    """Serialise PKI creation between processes (and threads: flock is per open file)."""
    with open(path, "a+b") as fh:
        if fcntl is not None:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        else:  # pragma: no cover - Windows
            fh.seek(0)
            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)


def _load_ca(pki: DevPKI) -> tuple[x509.Certificate, IssuerKey] | None:
    """Return the existing CA, or None when it is missing or unusable (then it is recreated)."""
    try:
        cert = x509.load_pem_x509_certificate(pki.ca_pem_path.read_bytes())
        key = serialization.load_pem_private_key(
            pki.ca_key_path.read_bytes(), password=pki.password or None
        )
    except (FileNotFoundError, ValueError, TypeError):
        return None
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        return None
    same_key = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) == cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not same_key or cert.not_valid_after_utc <= _now():
        return None
    return cert, key


def _seal_status(pki: DevPKI) -> str:
    """'ok', 'missing', 'expired' or 'mismatch' for the seal against the CA on disk."""
    try:
        ca_cert = x509.load_pem_x509_certificate(pki.ca_pem_path.read_bytes())
        blob = pki.p12_path.read_bytes()
    except FileNotFoundError:
        return "missing"
    try:
        key, cert, _extra = pkcs12.load_key_and_certificates(blob, pki.password or None)
    except ValueError as exc:
        raise ValueError(
            f"{pki.p12_path} cannot be opened with the configured password; "
            "fix the password or delete the directory to regenerate the development PKI"
        ) from exc
    if key is None or cert is None:
        return "mismatch"
    try:
        cert.verify_directly_issued_by(ca_cert)
    except (ValueError, TypeError, InvalidSignature):
        return "mismatch"
    if cert.not_valid_after_utc <= _now() + timedelta(days=1):
        return "expired"
    return "ok"


def ensure_dev_pki(
    directory: Path,
    *,
    organisation: str = "Città Metropolitana di Milano",
    password: bytes = b"dev",
) -> DevPKI:
    """Create (first use) or load the development PKI under ``directory``.

    Files: ``ca.pem`` (CA certificate), ``ca-key.pem`` (CA key, 0600, encrypted with
    ``password``) and ``seal.p12`` (seal key + certificate + CA, 0600, ``password``).
    Idempotent: existing files are loaded and left untouched, except that an expired seal is
    re-issued from the same CA. Safe against concurrent first use: creation happens under an
    exclusive file lock and each file is replaced atomically.
    """
    directory = Path(directory)
    pki = DevPKI(
        ca_pem_path=directory / CA_PEM_FILENAME,
        p12_path=directory / SEAL_P12_FILENAME,
        password=password,
    )
    # Fast path without the lock: every file is written by rename, so what exists is whole.
    if pki.ca_key_path.exists() and _seal_status(pki) == "ok":
        return pki

    directory.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(directory / _LOCK_FILENAME):
        # Another process may have finished the job while we waited for the lock.
        status = _seal_status(pki) if pki.ca_key_path.exists() else "missing"
        if status == "ok":
            return pki
        if status == "mismatch":
            raise RuntimeError(
                f"{pki.p12_path} was not issued by {pki.ca_pem_path}; "
                "delete the directory to regenerate the development PKI"
            )

        existing = _load_ca(pki)
        if existing is None:
            ca_cert, ca_key = _create_ca(organisation)
            # Key first, certificate second, seal last: a reader that sees seal.p12 sees a
            # complete PKI, and a crash midway leaves a state the next call repairs.
            _atomic_write(
                pki.ca_key_path,
                ca_key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    _pem_encryption(password),
                ),
                0o600,
            )
            _atomic_write(pki.ca_pem_path, ca_cert.public_bytes(serialization.Encoding.PEM), 0o644)
        else:
            ca_cert, ca_key = existing

        seal_key = rsa.generate_private_key(public_exponent=65537, key_size=SEAL_KEY_SIZE)
        seal_cert = issue_seal_certificate(
            ca_cert, ca_key, seal_key.public_key(), organisation=organisation
        )
        p12 = pkcs12.serialize_key_and_certificates(
            name=b"sigillo",
            key=seal_key,
            cert=seal_cert,
            cas=[ca_cert],
            encryption_algorithm=_p12_encryption(password),
        )
        _atomic_write(pki.p12_path, p12, 0o600)
    return pki
