from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from core.permissions import is_secretariat
from privacy.services import erase_participant, export_user_data


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """The participant's privacy page: a copy of their data and the erasure request."""
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
    return render(request, "privacy/my_data.html", {"error": error})
