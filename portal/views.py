from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
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
    from django.shortcuts import render

    return render(request, "429.html", status=429)


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """The participant's privacy page: a copy of their data and the erasure request."""
    from django.shortcuts import render

    from portal.permissions import is_secretariat
    from portal.privacy import erase_participant, export_user_data

    if request.GET.get("format") == "json":
        return JsonResponse(
            export_user_data(request.user),
            json_dumps_params={"indent": 2},
            headers={"Content-Disposition": content_disposition_header(True, "i-miei-dati.json")},
        )
    error = ""
    if request.method == "POST":
        if is_secretariat(request.user):
            error = _("Gli account della segreteria si cancellano dall'amministrazione.")
        elif not request.user.check_password(request.POST.get("password", "")):
            error = _("La password non è corretta.")
        else:
            erase_participant(user=request.user)
            logout(request)
            messages.success(request, _("Il tuo account è stato cancellato."))
            return redirect("courses:catalogue")
    return render(request, "accounts/my_data.html", {"error": error})
