from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from certificates import services
from certificates.models import Certificate


@admin.register(Certificate)
class CertificateAdmin(admin.ModelAdmin):
    """Read-only: certificates change only through the services (issue, re-issue, revoke)."""

    list_display = [
        "serial",
        "holder_last_name",
        "holder_first_name",
        "course_code",
        "version",
        "status",
        "issued_at",
        "notified_at",
    ]
    list_filter = ["status", "fcoas_awarded", "issued_at"]
    search_fields = ["serial", "code", "holder_last_name", "codice_fiscale", "course_code"]
    list_select_related = ["enrollment"]
    actions = ["reissue_selected"]
    exclude = ["file"]

    def get_readonly_fields(
        self, request: HttpRequest, obj: Certificate | None = None
    ) -> list[str]:
        return [f.name for f in Certificate._meta.fields if f.name != "file"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Certificate | None = None) -> bool:
        return False

    @admin.action(
        description=_("Emetti una nuova versione con i dati attuali (revoca la precedente)"),
        permissions=["change"],
    )
    def reissue_selected(self, request: HttpRequest, queryset: QuerySet[Certificate]) -> None:
        done = 0
        for certificate in queryset.filter(status=Certificate.Status.VALID):
            try:
                services.reissue_certificate(
                    certificate=certificate, reason=str(_("Nuova emissione dall'amministrazione"))
                )
            except services.CertificateError as exc:
                self.message_user(request, f"{certificate.serial}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("Nuove versioni emesse: %(n)d.") % {"n": done})
