from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, str]:
    """Names shown in every page's header and footer."""
    return {
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PORTAL_ORGANISER": settings.PORTAL_ORGANISER,
        "PORTAL_SECRETARIAT_EMAIL": settings.PORTAL_SECRETARIAT_EMAIL,
    }
