from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.functional import lazy


def portal(request: HttpRequest) -> dict[str, object]:
    """Names shown in every page's header and footer; the pages named in settings (lazily)."""
    return {
        "SECRETARIAT_HOME_URL": lazy(resolve_url, str)(settings.SECRETARIAT_HOME_URL),
        "PERSONAL_DATA_URL": lazy(resolve_url, str)(settings.PERSONAL_DATA_URL),
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PORTAL_ORGANISER": settings.PORTAL_ORGANISER,
        "PORTAL_SECRETARIAT_EMAIL": settings.PORTAL_SECRETARIAT_EMAIL,
    }
