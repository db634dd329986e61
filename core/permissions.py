"""The one guard of the secretariat's pages and exports.

Signed in, staff, holding the page's permission and, when STAFF_2FA_REQUIRED, a session confirmed
with a second factor: all four are checked together, in one place, for every secretariat view.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
    from django.http import HttpRequest, HttpResponse


def is_secretariat(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whoever can see more than their own data: staff, superusers, holders of any permission.

    Participants hold no permission at all, so any permission (a group such as "Segreteria", or
    one given to the person) marks an account whose sessions need a second factor.
    """
    if not user.is_authenticated:
        return False
    return bool(user.is_staff or user.is_superuser or user.get_all_permissions())


def needs_second_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    """True when this session must still be confirmed with a second factor."""
    return (
        settings.STAFF_2FA_REQUIRED
        and is_secretariat(user)
        and not (hasattr(user, "is_verified") and user.is_verified())
    )


def two_factor_redirect(request: HttpRequest) -> HttpResponse:
    return redirect(
        f"{reverse('accounts:two_factor')}?{urlencode({'next': request.get_full_path()})}"
    )


def check_secretariat_access(request: HttpRequest, perm: str) -> HttpResponse | None:
    """None when the request may go on; otherwise the response that stops it.

    Raises PermissionDenied (403) for a signed-in user without the staff flag or without `perm`.
    """
    user = request.user
    if not user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not (user.is_staff and user.has_perm(perm)):
        raise PermissionDenied
    if needs_second_factor(user):
        return two_factor_redirect(request)
    return None


def secretariat_required(perm: str) -> Callable:
    """Guard a secretariat view: anonymous → login, no staff flag or no `perm` → 403,
    unconfirmed session (when STAFF_2FA_REQUIRED) → the second-factor step."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            stop = check_secretariat_access(request, perm)
            if stop is not None:
                return stop
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


class SecretariatRequiredMixin:
    """The class-based equivalent of secretariat_required: set `permission_required`."""

    permission_required: str = ""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not self.permission_required:
            raise ImproperlyConfigured(f"{type(self).__name__} must set permission_required")
        stop = check_secretariat_access(request, self.permission_required)
        if stop is not None:
            return stop
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
