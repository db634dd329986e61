"""The pages a public administration's site must have: accessibility statement (with its
feedback form), privacy notice, legal notes, the organiser's contacts."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.decorators import ratelimit

from web.forms import AccessibilityFeedbackForm
from web.services import submit_accessibility_feedback


@ratelimit(key="ip", rate="5/h", method="POST", block=True)
@require_http_methods(["GET", "POST"])
def accessibility(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = AccessibilityFeedbackForm(request.POST)
        if form.is_valid():
            submit_accessibility_feedback(**form.cleaned_data)
            messages.success(
                request,
                _(
                    "Grazie: la segnalazione è stata inviata alla segreteria, che ti risponderà "
                    "all'indirizzo indicato entro 30 giorni."
                ),
            )
            return redirect("web:accessibility")
    else:
        initial = {"email": request.user.email} if request.user.is_authenticated else {}
        form = AccessibilityFeedbackForm(initial=initial)
    return render(
        request,
        "web/legal/accessibility.html",
        {"form": form, "statement_url": settings.ACCESSIBILITY_STATEMENT_URL},
    )


@require_safe
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "web/legal/privacy.html")


@require_safe
def legal_notes(request: HttpRequest) -> HttpResponse:
    return render(request, "web/legal/legal_notes.html")


@require_safe
def contacts(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "web/legal/contacts.html",
        {
            "phone": settings.PORTAL_SECRETARIAT_PHONE,
            "address": settings.PORTAL_SECRETARIAT_ADDRESS,
        },
    )
