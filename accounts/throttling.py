"""Logins that cannot be brute-forced.

Two limits, both keyed on the client's address as core.client_ip reads it:
- django-axes locks an (account, address) pair after AXES_FAILURE_LIMIT failures for
  AXES_COOLOFF_TIME. Keyed on the pair, so nobody can lock a person out from elsewhere.
- LOGIN_FAILURES_PER_ADDRESS caps the failures from one address over all accounts, on the site's
  login and the admin's alike, so one address cannot spray many accounts. Only failures count:
  an office behind one public address may sign in as many people as it likes.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from axes.helpers import get_client_parameters, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q
from django.shortcuts import render
from django.utils import timezone
from django_ratelimit.core import get_usage

if TYPE_CHECKING:
    from django.http import HttpRequest, HttpResponse

FAILURES_GROUP = "accounts.login-failures"


def normalise_login_username(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The login name as the lockout counts it: however it is written, one account."""
    field = settings.AXES_USERNAME_FORM_FIELD
    if credentials is not None and credentials.get(field) is not None:
        value = credentials[field]
    else:
        value = getattr(request, "POST", {}).get(field) or ""
    return str(value).strip().casefold()


def _minutes(seconds: float) -> int:
    return max(1, math.ceil(seconds / 60))


def _too_many_attempts(request: HttpRequest, *, seconds_left: float, template: str) -> HttpResponse:
    response = render(request, template, {"retry_minutes": _minutes(seconds_left)}, status=429)
    response["Retry-After"] = str(max(1, math.ceil(seconds_left)))
    return response


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None,
    credentials: dict[str, Any] | None,
) -> HttpResponse:
    """django-axes' answer to a locked-out login: a 429 page saying when to try again."""
    cool_off = get_cool_off(request) or timedelta(0)
    username = normalise_login_username(request, credentials)
    # The lockout ends one cool-off after the failure that caused it: failures during the
    # lockout are not recorded (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT is off).
    matching = Q(pk__in=[])
    for kwargs in get_client_parameters(
        username, request.axes_ip_address, request.axes_user_agent, request, credentials
    ):
        matching |= Q(**kwargs)
    last = AccessAttempt.objects.filter(
        matching, attempt_time__gte=timezone.now() - cool_off
    ).aggregate(last=Max("attempt_time"))["last"]
    seconds_left = ((last + cool_off) - timezone.now()).total_seconds() if last else 60
    return _too_many_attempts(
        request, seconds_left=seconds_left, template=settings.AXES_LOCKOUT_TEMPLATE
    )


def _failures_usage(request: HttpRequest, *, increment: bool) -> dict[str, Any] | None:
    return get_usage(
        request,
        group=FAILURES_GROUP,
        key="ip",
        rate=settings.LOGIN_FAILURES_PER_ADDRESS,
        increment=increment,
    )


def count_login_failure(
    sender: object,
    credentials: dict[str, Any],
    request: HttpRequest | None = None,
    **kwargs: Any,
) -> None:
    """`user_login_failed` receiver: one more failure for the client's address."""
    if request is not None:
        _failures_usage(request, increment=True)


def limit_login_failures_per_address(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Refuse login attempts from an address that failed too often, before checking anything."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST":
            usage = _failures_usage(request, increment=False)
            if usage is not None and usage["count"] >= usage["limit"]:
                return _too_many_attempts(
                    request, seconds_left=usage["time_left"], template="429.html"
                )
        return view(request, *args, **kwargs)

    return wrapper
