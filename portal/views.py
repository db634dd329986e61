from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database check for load balancers and docker healthchecks."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def switch_language(request: HttpRequest, code: str) -> HttpResponse:
    """Choose the interface language: a link, so public pages need no form and no CSRF token."""
    if code not in dict(settings.LANGUAGES):
        raise Http404
    target = request.GET.get("next", "/")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    response = redirect(target)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        code,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=request.is_secure(),
    )
    if request.user.is_authenticated and request.user.language != code:
        request.user.language = code  # e-mails and certificates follow the chosen language
        request.user.save(update_fields=["language"])
    return response


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Too many attempts (sign-up, password reset, enrolment, verification uploads)."""
    return render(request, "429.html", status=429)
