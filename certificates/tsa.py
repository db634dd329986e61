"""The configured time-stamping authority: turns a CAdES B-B `.p7m` into B-T.

Settings: TSA_URL (empty: no time-stamps), TSA_USERNAME / TSA_PASSWORD (HTTP basic),
TSA_TIMEOUT (seconds), TSA_CA_PEM_PATH (optional: the TSA's CA, required of its tokens).
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from django.conf import settings

from certificates.signing import add_signature_timestamp, signature_value, verify_p7m
from certificates.timestamping import TimestampError, request_timestamp

logger = logging.getLogger(__name__)


def tsa_configured() -> bool:
    return bool(getattr(settings, "TSA_URL", ""))


def get_tsa_ca_pem() -> bytes | None:
    """The TSA's CA certificates (PEM) if configured: tokens must be issued under them."""
    path = getattr(settings, "TSA_CA_PEM_PATH", "") or ""
    return Path(path).read_bytes() if path else None


def add_timestamp(p7m: bytes) -> tuple[bytes, dt.datetime] | None:
    """The `.p7m` with the TSA's signature time-stamp and the time it certifies.

    None when no TSA is configured, or it did not answer or answered with a token that does
    not check out: the caller keeps the B-B file, and the periodic upgrade tries again.
    """
    if not tsa_configured():
        return None
    try:
        token = request_timestamp(
            signature_value(p7m),
            url=settings.TSA_URL,
            username=getattr(settings, "TSA_USERNAME", "") or "",
            password=getattr(settings, "TSA_PASSWORD", "") or "",
            timeout=float(getattr(settings, "TSA_TIMEOUT", 10.0)),
        )
        stamped = add_signature_timestamp(p7m, token)
    except (TimestampError, ValueError) as exc:
        logger.warning("no signature time-stamp: %s", exc)
        return None
    # Never store a token we could not verify ourselves later.
    result = verify_p7m(stamped, trusted_tsa_pem=get_tsa_ca_pem())
    if not result.valid or result.timestamp_time is None:
        logger.error("the TSA's time-stamp does not verify: %s", "; ".join(result.errors))
        return None
    return stamped, result.timestamp_time
