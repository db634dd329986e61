from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from enrollment.models import Enrollment


def certificate_upload_to(instance: Certificate, filename: str) -> str:
    # Under MEDIA_ROOT, which is never served: files leave only through the owner's download view.
    return f"certificates/{instance.issued_at:%Y}/{filename}"


class Seal(models.Model):
    """A seal certificate that signed some of our certificates, kept after it expires.

    Verification checks a file against the seal recorded when it was issued, at the time it was
    signed, and /verify/ca.pem keeps publishing the CA of every seal still vouching for a valid
    certificate.
    """

    fingerprint = models.CharField(
        _("impronta SHA-256 del certificato del sigillo"), max_length=64, unique=True
    )
    subject = models.CharField(_("titolare del sigillo"), max_length=500)
    serial_number = models.CharField(_("numero di serie del certificato"), max_length=64)
    issuer = models.CharField(_("emesso da"), max_length=500)
    not_before = models.DateTimeField(_("valido dal"))
    not_after = models.DateTimeField(_("valido fino al"))
    certificate_pem = models.TextField(_("certificato del sigillo (PEM)"))
    ca_pem = models.TextField(_("catena delle autorità di certificazione (PEM)"))
    first_used_at = models.DateTimeField(_("primo utilizzo"), auto_now_add=True)

    class Meta:
        verbose_name = _("sigillo elettronico")
        verbose_name_plural = _("sigilli elettronici")
        ordering = ["-not_after", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(not_before__lt=F("not_after")), name="seal_valid_before_expiry"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Da inviare")
    SENT = "sent", _("Inviata")
    FAILED = "failed", _("Non inviata")


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
    timestamped_at = models.DateTimeField(
        _("marca temporale del"),
        null=True,
        blank=True,
        help_text=_(
            "Ora certificata dall'autorità di marcatura temporale (CAdES B-T); vuoto: firma "
            "senza marca temporale, da aggiungere appena il servizio risponde."
        ),
    )
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
    seal = models.ForeignKey(
        Seal,
        on_delete=models.PROTECT,
        null=True,  # certificates issued before seals were recorded
        blank=True,
        related_name="certificates",
        verbose_name=_("sigillo"),
    )
    # The "certificate ready" e-mail: this row is its outbox entry, written with the certificate.
    notification_status = models.CharField(
        _("stato dell'e-mail"),
        max_length=10,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
    )
    notification_attempts = models.PositiveSmallIntegerField(_("tentativi di invio"), default=0)
    notified_at = models.DateTimeField(_("e-mail inviata il"), null=True, blank=True)
    notification_error = models.CharField(_("errore dell'e-mail"), max_length=255, blank=True)
    # Set by the owner's first download: who has not downloaded yet may be reminded.
    first_downloaded_at = models.DateTimeField(
        _("primo download del titolare"), null=True, blank=True
    )

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
            models.CheckConstraint(
                condition=~Q(notification_status="sent") | Q(notified_at__isnull=False),
                name="certificate_sent_email_has_date",
            ),
        ]
        indexes = [
            models.Index(
                fields=["notification_status", "issued_at"], name="certificate_outbox_idx"
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


class CertificateChange(models.Model):
    """One append-only entry: who re-issued or revoked a certificate, when and why."""

    class Action(models.TextChoices):
        REISSUED = "reissued", _("Nuova versione emessa")
        REVOKED = "revoked", _("Revocato")

    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        related_name="changes",
        verbose_name=_("attestato"),
    )
    action = models.CharField(_("azione"), max_length=10, choices=Action.choices)
    replacement = models.OneToOneField(
        Certificate,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("nuova versione"),
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,  # None: the system (a command, a periodic task)
        blank=True,
        related_name="+",
        verbose_name=_("eseguita da"),
    )
    changed_at = models.DateTimeField(_("eseguita il"))
    reason = models.CharField(_("motivo"), max_length=255)

    class Meta:
        verbose_name = _("modifica di un attestato")
        verbose_name_plural = _("storico degli attestati")
        ordering = ["-changed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="reissued", replacement__isnull=False)
                | Q(action="revoked", replacement__isnull=True),
                name="certificatechange_reissue_names_replacement",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="certificatechange_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.certificate_id}: {self.get_action_display()} ({self.changed_at:%Y-%m-%d})"


class PreviousCertificateFile(models.Model):
    """The hash of a file we issued and later replaced with an upgraded one (B-B to B-T).

    The holder may have downloaded the earlier file: it still proves the certificate, so
    verification by upload recognises it as ours. Append-only.
    """

    certificate = models.ForeignKey(
        Certificate,
        on_delete=models.PROTECT,
        related_name="previous_files",
        verbose_name=_("attestato"),
    )
    sha256 = models.CharField(_("SHA-256 del file precedente"), max_length=64, unique=True)
    replaced_at = models.DateTimeField(_("sostituito il"))

    class Meta:
        verbose_name = _("file precedente di un attestato")
        verbose_name_plural = _("file precedenti degli attestati")
        ordering = ["-replaced_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.certificate_id}: {self.sha256[:12]}"
