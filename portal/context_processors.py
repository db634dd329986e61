from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def portal(request: HttpRequest) -> dict[str, object]:
    """Names shown in every page's header and footer, and whether to offer the secretariat menu."""
    user = request.user
    return {
        # The same two conditions as the secretariat guard, so the menu never leads to a 403.
        "SHOW_SECRETARIAT_MENU": user.is_authenticated
        and user.is_staff
        and user.has_perm("enrollment.manage_enrollments"),
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PORTAL_ORGANISER": settings.PORTAL_ORGANISER,
        "PORTAL_SECRETARIAT_EMAIL": settings.PORTAL_SECRETARIAT_EMAIL,
    }
