from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from api.models import ApiKey
from api.services import revoke_api_keys, set_key_secret


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "organisation",
        "scope",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = ["scope", "revoked_at"]
    search_fields = ["name", "organisation", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        raw_key = None if change else set_key_secret(key=obj)
        super().save_model(request, obj, form, change)
        if raw_key is not None:
            messages.warning(
                request,
                _("Chiave API creata: %(key)s — copiarla ora, non sarà più mostrata.")
                % {"key": raw_key},
            )

    @admin.action(description=_("Revoca le chiavi selezionate"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        n = revoke_api_keys(key_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, _("Chiavi revocate: %(n)d.") % {"n": n})
