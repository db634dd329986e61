"""The organiser's seal: which signer signs certificates, and which CA verifies them.

Production sets SIGNING_P12_PATH / SIGNING_P12_PASSWORD to the organiser's qualified seal;
without them a development CA and seal are created on first use under PKI_DIR (default
VAR_DIR / "pki"), but only where the settings allow it (CERTIFICATES_DEV_PKI, on only with
DEBUG): production never signs with a home-made CA. Everything else talks to the `Signer`
protocol, so an HSM (PKCS#11) or a remote signing service can replace the file key here and
nowhere else.
"""

from __future__ import annotations

import threading
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from certificates.pki import ensure_dev_pki
from certificates.signing import FileSigner, Signer

_lock = threading.Lock()
_signer: Signer | None = None
_ca_pem: bytes | None = None

NO_SEAL_MESSAGE = (
    "SIGNING_P12_PATH is empty: set it to the organiser's qualified electronic seal (PKCS#12). "
    "With DEBUG off the development CA is never used to sign certificates."
)


class SealNotConfigured(ImproperlyConfigured):
    """Production without the organiser's seal: refuse to sign rather than sign with a toy CA."""


def dev_pki_allowed() -> bool:
    """Whether the development CA may sign: only in development (DEBUG, at start-up)."""
    return bool(getattr(settings, "CERTIFICATES_DEV_PKI", False))


def _pki_dir() -> Path:
    return Path(getattr(settings, "PKI_DIR", "") or Path(settings.VAR_DIR) / "pki")


def _p12_path() -> str:
    return getattr(settings, "SIGNING_P12_PATH", "") or ""


def _load() -> tuple[Signer, bytes]:
    p12_path = _p12_path()
    if p12_path:
        password = getattr(settings, "SIGNING_P12_PASSWORD", "") or None
        signer = FileSigner.from_pkcs12(p12_path, password)
        ca_pem_path = getattr(settings, "SIGNING_CA_PEM_PATH", "") or ""
        if ca_pem_path:
            ca_pem = Path(ca_pem_path).read_bytes()
        else:
            # The chain shipped in the PKCS#12 (issuing CA and root) is what verifiers trust.
            ca_pem = b"".join(
                cert.public_bytes(serialization.Encoding.PEM) for cert in signer.chain
            )
        return signer, ca_pem
    if not dev_pki_allowed():
        raise SealNotConfigured(NO_SEAL_MESSAGE)
    pki = ensure_dev_pki(_pki_dir(), organisation=settings.PORTAL_ORGANISER)
    return pki.signer(), pki.ca_pem_path.read_bytes()


def get_signer() -> Signer:
    """The process-wide signer; the PKCS#12 is decrypted once (hundreds of ms), then reused."""
    global _signer, _ca_pem
    if _signer is None:
        with _lock:
            if _signer is None:
                _signer, _ca_pem = _load()
    return _signer


def get_ca_pem() -> bytes:
    """The current seal's CA certificate(s), PEM, that verify what it signs."""
    return get_signer_and_ca_pem()[1]


def get_signer_and_ca_pem() -> tuple[Signer, bytes]:
    """The signer and its CA chain, read together so they always belong to the same seal."""
    while True:
        get_signer()
        with _lock:
            signer, ca_pem = _signer, _ca_pem
        if signer is not None and ca_pem is not None:  # else reset meanwhile: load again
            return signer, ca_pem


def set_signer(signer: Signer, ca_pem: bytes) -> None:
    """Install another signer (an HSM, a remote service, a test key) for this process."""
    global _signer, _ca_pem
    with _lock:
        _signer, _ca_pem = signer, ca_pem


def reset_signer() -> None:
    """Forget the cached signer, e.g. after the settings changed in a test."""
    global _signer, _ca_pem
    with _lock:
        _signer, _ca_pem = None, None
