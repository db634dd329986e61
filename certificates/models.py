from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from enrollment.models import Enrollment


def certificate_upload_to(instance: Certificate, filename: str) -> str:
    # Under MEDIA_ROOT, which is never served: files leave only through the owner's download view.
    return f"certificates/{instance.issued_at:%Y}/{filename}"


class Certificate(models.Model):
    """A signed certificate of attendance (`.pdf.p7m`) for one enrolment.

    What it states (name, codice fiscale, hours, credits) is copied here when it is issued, so the
    public verification page keeps saying what the signed document says even if the profile or
    the course changes later. A correction is a new version; the old one is revoked.
    """

    class Status(models.TextChoices):
        VALID = "valid", _("Valido")
        REVOKED = "revoked", _("Revocato")

    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.PROTECT,
        related_name="certificates",
        verbose_name=_("iscrizione"),
    )
    version = models.PositiveSmallIntegerField(_("versione"), default=1)
    status = models.CharField(
        _("stato"), max_length=10, choices=Status.choices, default=Status.VALID
    )
    serial = models.CharField(_("numero dell'attestato"), max_length=60, unique=True)
    code = models.CharField(
        _("codice di verifica"),
        max_length=16,
        unique=True,
        help_text=_("Pubblico: stampato sull'attestato e nel QR code della verifica."),
    )
    token = models.UUIDField(
        _("token di download"), default=uuid.uuid4, unique=True, editable=False
    )
    holder_first_name = models.CharField(_("nome del titolare"), max_length=150)
    holder_last_name = models.CharField(_("cognome del titolare"), max_length=150)
    codice_fiscale = models.CharField(_("codice fiscale"), max_length=16, blank=True)
    profession = models.CharField(_("professione"), max_length=32, blank=True)
    course_code = models.CharField(_("codice del corso"), max_length=30)
    course_title = models.CharField(_("titolo del corso"), max_length=250)
    attended_minutes = models.PositiveIntegerField(_("minuti frequentati"))
    total_minutes = models.PositiveIntegerField(_("minuti del corso"))
    fcoas_awarded = models.BooleanField(
        _("crediti FCO.AS riconosciuti"),
        default=False,
        help_text=_("Assistente sociale in un corso che riconosce crediti FCO.AS."),
    )
    fcoas_credits = models.PositiveSmallIntegerField(_("crediti FCO.AS"), null=True, blank=True)
    language = models.CharField(_("lingua"), max_length=10, default="it")
    file = models.FileField(_("file firmato (.pdf.p7m)"), upload_to=certificate_upload_to)
    sha256 = models.CharField(_("SHA-256 del file firmato"), max_length=64)
    issued_at = models.DateTimeField(_("rilasciato il"))
    revoked_at = models.DateTimeField(_("revocato il"), null=True, blank=True)
    revocation_reason = models.CharField(_("motivo della revoca"), max_length=255, blank=True)
    replaces = models.OneToOneField(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="replaced_by",
        verbose_name=_("sostituisce"),
    )
    notified_at = models.DateTimeField(_("e-mail inviata il"), null=True, blank=True)
    notification_error = models.CharField(_("errore dell'e-mail"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("attestato")
        verbose_name_plural = _("attestati")
        ordering = ["-issued_at", "-pk"]
        permissions = [("manage_certificates", _("Può gestire gli attestati e i crediti"))]
        constraints = [
            # Idempotency held by the database: two tasks racing cannot both issue.
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=Q(status="valid"),
                name="certificate_one_valid_per_enrollment",
            ),
            models.UniqueConstraint(
                fields=["enrollment", "version"], name="certificate_unique_version"
            ),
            models.CheckConstraint(
                condition=Q(status="valid", revoked_at__isnull=True)
                | Q(status="revoked", revoked_at__isnull=False),
                name="certificate_revoked_has_date",
            ),
            models.CheckConstraint(
                condition=Q(attended_minutes__lte=F("total_minutes")),
                name="certificate_attended_within_total",
            ),
            models.CheckConstraint(
                condition=Q(version__gte=1), name="certificate_version_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.serial} ({self.get_status_display()})"

    @property
    def holder_name(self) -> str:
        return f"{self.holder_first_name} {self.holder_last_name}".strip()

    @property
    def filename(self) -> str:
        return f"{self.serial}.pdf.p7m"

    @property
    def is_valid(self) -> bool:
        return self.status == self.Status.VALID
