"""Errors as RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: _("Richiesta non valida"),
    401: _("Autenticazione richiesta"),
    403: _("Accesso negato"),
    404: _("Risorsa non trovata"),
    405: _("Metodo non consentito"),
    406: _("Formato non disponibile"),
    415: _("Tipo di contenuto non supportato"),
    429: _("Troppe richieste"),
}


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None
    data = response.data
    problem: dict[str, Any] = {
        "type": "about:blank",
        "title": str(TITLES.get(response.status_code, _("Errore"))),
        "status": response.status_code,
    }
    if isinstance(data, dict) and set(data) == {"detail"}:
        problem["detail"] = str(data["detail"])
    else:
        # Field errors of a bad request: the detail says so, `errors` lists them by field.
        problem["detail"] = str(_("I dati inviati non sono validi."))
        problem["errors"] = data
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        problem["retry_after"] = response.get("Retry-After")
    response.data = problem
    response.content_type = PROBLEM_CONTENT_TYPE
    return response
