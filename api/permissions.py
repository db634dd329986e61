from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class HasApiKey(BasePermission):
    """An organisation's key; writing needs a key with the write scope."""

    message = _("Questa chiave API non può modificare i dati.")

    def has_permission(self, request: Request, view: APIView) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        return request.method in SAFE_METHODS or key.can_write
