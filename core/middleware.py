from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from core import client_ip
from core.permissions import needs_second_factor, two_factor_redirect


class StaffTwoFactorMiddleware:
    """Secretariat and admin pages need a session confirmed with a second factor."""

    PROTECTED = ("/segreteria/", "/admin/")

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Whoever holds a secretariat permission, staff flag or not: the views' own guard
        # (core.permissions) answers 403 to the latter only after the second factor.
        if request.path.startswith(self.PROTECTED) and needs_second_factor(request.user):
            return two_factor_redirect(request)
        return self.get_response(request)


class PortalLocaleMiddleware:
    """Italian unless the visitor chose another language.

    Django's LocaleMiddleware follows the browser's Accept-Language, which would show an Italian
    public portal in English to most visitors with an English-language browser; here only an
    explicit choice (the language cookie, or the account's language) switches it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.supported = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in self.supported:
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class ClientAddressMiddleware:
    """Makes the client's address (see core.client_ip) available to the log lines of a request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = client_ip.set_current(client_ip.client_ip(request))
        try:
            return self.get_response(request)
        finally:
            client_ip.reset_current(token)
