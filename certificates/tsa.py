"""The configured time-stamping authority: turns a CAdES B-B `.p7m` into B-T.

Settings: TSA_URL (empty: no time-stamps), TSA_USERNAME / TSA_PASSWORD (HTTP basic),
TSA_TIMEOUT (seconds), TSA_CA_PEM_PATH (optional: the TSA's CA, required of its tokens).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.core.cache import cache

from certificates.signing import add_signature_timestamp, signature_value, verify_p7m
from certificates.timestamping import TimestampError, TSAUnreachable, request_timestamp

logger = logging.getLogger(__name__)

# After the TSA failed to answer, certificates are issued B-B without asking it for this long:
# a batch must not wait TSA_TIMEOUT per certificate for a TSA that is down.
UNREACHABLE_PAUSE_SECONDS = 60


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
    pause_key = "tsa-unreachable:" + hashlib.sha256(settings.TSA_URL.encode()).hexdigest()[:16]
    if cache.get(pause_key):
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
    except TSAUnreachable as exc:
        logger.warning("no signature time-stamp, TSA paused for a minute: %s", exc)
        cache.set(pause_key, True, UNREACHABLE_PAUSE_SECONDS)
        return None
    except (TimestampError, ValueError) as exc:
        logger.warning("no signature time-stamp: %s", exc)
        return None
    # Never store a token we could not verify ourselves later.
    result = verify_p7m(stamped, trusted_tsa_pem=get_tsa_ca_pem())
    if not result.valid or result.timestamp_time is None:
        logger.error("the TSA's time-stamp does not verify: %s", "; ".join(result.errors))
        return None
    return stamped, result.timestamp_time
