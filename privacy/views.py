from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from privacy.services import erase_participant, export_user_data


@login_required
def my_data(request: HttpRequest) -> HttpResponse:
    """The participant's privacy page: a copy of their data and the erasure request."""
    if request.GET.get("format") == "json":
        response = JsonResponse(export_user_data(request.user), json_dumps_params={"indent": 2})
        response["Content-Disposition"] = 'attachment; filename="i-miei-dati.json"'
        return response
    error = ""
    if request.method == "POST":
        if request.user.is_staff:
            error = _("Gli account della segreteria si cancellano dall'amministrazione.")
        elif not request.user.check_password(request.POST.get("password", "")):
            error = _("La password non è corretta.")
        else:
            erase_participant(user=request.user)
            logout(request)
            messages.success(request, _("Il tuo account è stato cancellato."))
            return redirect("courses:catalogue")
    return render(request, "privacy/my_data.html", {"error": error})
