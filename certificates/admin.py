from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from certificates import services
from certificates.models import Certificate, CertificateChange, Seal
from core.admin import ReadOnlyModelAdmin


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
        "timestamped_at",
        "notification_status",
        "notified_at",
    ]
    list_filter = ["status", "notification_status", "fcoas_awarded", "issued_at"]
    search_fields = ["serial", "code", "holder_last_name", "codice_fiscale", "course_code"]
    list_select_related = ["enrollment", "seal"]
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
                    certificate=certificate,
                    reason=str(_("Nuova emissione dall'amministrazione")),
                    actor=request.user,
                )
            except services.CertificateError as exc:
                self.message_user(request, f"{certificate.serial}: {exc.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, _("Nuove versioni emesse: %(n)d.") % {"n": done})


@admin.register(CertificateChange)
class CertificateChangeAdmin(ReadOnlyModelAdmin):
    """The audit trail of re-issues and revocations: read only, append only."""

    list_display = ["changed_at", "certificate", "action", "replacement", "changed_by", "reason"]
    list_filter = ["action", "changed_at"]
    search_fields = ["certificate__serial", "certificate__holder_last_name", "reason"]
    list_select_related = ["certificate", "replacement", "changed_by"]


@admin.register(Seal)
class SealAdmin(ReadOnlyModelAdmin):
    """The seal certificates that signed certificates, kept for verification."""

    list_display = ["subject", "serial_number", "not_before", "not_after", "first_used_at"]
    search_fields = ["subject", "fingerprint", "serial_number"]
