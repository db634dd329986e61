"""System checks: a production deployment must sign with the organiser's seal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register


@register(Tags.security, deploy=True)
def check_signing_seal(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """certificates.E001/E002: with DEBUG off the seal's PKCS#12 is configured and readable."""
    if settings.DEBUG:
        return []
    path = getattr(settings, "SIGNING_P12_PATH", "") or ""
    if not path:
        return [
            Error(
                "SIGNING_P12_PATH is not set, so certificates would be signed with the "
                "development CA, which has no legal value.",
                hint="Set SIGNING_P12_PATH (and SIGNING_P12_PASSWORD) to the organiser's "
                "qualified electronic-seal certificate in PKCS#12 format.",
                id="certificates.E001",
            )
        ]
    if not Path(path).is_file():
        return [
            Error(
                f"SIGNING_P12_PATH points to {path}, which is not a readable file.",
                hint="Mount the organiser's seal (PKCS#12) at that path.",
                id="certificates.E002",
            )
        ]
    return []
