from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.request import Request

from api.models import ApiKey
from api.services import hash_key, touch_api_key

KEYWORD = "Api-Key"


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: the request's `auth` is the ApiKey, its user anonymous."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() != KEYWORD.lower():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(_("Intestazione Authorization non valida."))
        raw_key = parts[1].decode(errors="replace")
        key = ApiKey.objects.filter(hashed_key=hash_key(raw_key)).first()
        if key is None or not key.is_active:
            raise exceptions.AuthenticationFailed(_("Chiave API non valida o revocata."))
        touch_api_key(key=key)
        return AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD
