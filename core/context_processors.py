from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils.functional import lazy


def portal(request: HttpRequest) -> dict[str, object]:
    """Names shown in every page's header and footer; the pages named in settings (lazily);
    whether to offer the secretariat menu."""
    user = request.user
    # The same two conditions as the secretariat guard, so the menu never leads to a 403.
    show_secretariat_menu = (
        user.is_authenticated and user.is_staff and user.has_perm("enrollment.manage_enrollments")
    )
    # Sign-up with a password is offered unless participants use SPID/CIE only (accounts).
    signup_open = settings.PASSWORD_LOGIN_ENABLED or not settings.OIDC_ISSUER
    return {
        "SHOW_SECRETARIAT_MENU": show_secretariat_menu,
        "SIGNUP_OPEN": signup_open,
        # What the cached main menu of base.html depends on, besides the language.
        "MENU_VARIANT": (
            user.is_authenticated,
            show_secretariat_menu,
            user.is_superuser,
            signup_open,
        ),
        "SECRETARIAT_HOME_URL": lazy(resolve_url, str)(settings.SECRETARIAT_HOME_URL),
        "PERSONAL_DATA_URL": lazy(resolve_url, str)(settings.PERSONAL_DATA_URL),
        "PORTAL_NAME": settings.PORTAL_NAME,
        "PORTAL_ORGANISER": settings.PORTAL_ORGANISER,
        "PORTAL_SECRETARIAT_EMAIL": settings.PORTAL_SECRETARIAT_EMAIL,
    }
