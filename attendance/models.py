from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from courses.models import Session
from enrollment.models import Enrollment


class Source(models.TextChoices):
    REGISTER = "register", _("Registro presenze")
    IMPORT = "import", _("Importazione da file")
    ADMIN = "admin", _("Amministrazione")
    SESSION_CHANGE = "session_change", _("Modifica dell'orario della giornata")
    TEAMS = "teams", _("Report delle presenze di Microsoft Teams")
    ZOOM = "zoom", _("Report dei partecipanti di Zoom")
    MEET = "meet", _("Report delle presenze di Google Meet")
    API = "api", _("API di un ente")
    QR = "qr", _("Scansione del codice QR")
    MANUAL = "manual", _("Entrata o uscita registrata a mano")


class Attendance(models.Model):
    """How long one confirmed participant stayed at one session.

    Rows change only through attendance.services, which keeps the audit trail.
    """

    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.PROTECT,
        related_name="attendances",
        verbose_name=_("iscrizione"),
    )
    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("giornata")
    )
    minutes = models.PositiveIntegerField(
        _("minuti di presenza"),
        help_text=_("Calcolati dagli orari, se indicati, entro l'orario della giornata."),
    )
    entry = models.TimeField(_("entrata"), null=True, blank=True)
    exit = models.TimeField(_("uscita"), null=True, blank=True)
    source = models.CharField(_("origine"), max_length=16, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registrata da"),
    )
    recorded_at = models.DateTimeField(_("registrata il"))

    class Meta:
        verbose_name = _("presenza")
        verbose_name_plural = _("presenze")
        # No default ordering: it would join (and, under select_for_update, lock) the session,
        # enrolment and course rows. Reads order explicitly.
        permissions = [("record_attendance", _("Può registrare le presenze"))]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment", "session"], name="attendance_unique_per_enrollment_session"
            ),
            # The upper bound (the session's length) lives in another table: the service checks it.
            models.CheckConstraint(
                condition=Q(minutes__gte=0), name="attendance_minutes_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(entry__isnull=True, exit__isnull=True)
                | Q(entry__isnull=False, exit__isnull=False),
                name="attendance_times_both_or_neither",
            ),
            models.CheckConstraint(
                condition=Q(entry__isnull=True) | Q(exit__isnull=True) | Q(entry__lt=F("exit")),
                name="attendance_entry_before_exit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment.user} – {self.session}: {self.minutes} min"


class AttendanceChange(models.Model):
    """One append-only audit entry: who changed an attendance row, when, how and from what."""

    attendance = models.ForeignKey(
        Attendance, on_delete=models.PROTECT, related_name="changes", verbose_name=_("presenza")
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("modificata da"),
    )
    changed_at = models.DateTimeField(_("modificata il"))
    source = models.CharField(_("origine"), max_length=16, choices=Source.choices)
    source_detail = models.CharField(_("dettaglio dell'origine"), max_length=255, blank=True)
    file_sha256 = models.CharField(_("SHA-256 del file importato"), max_length=64, blank=True)
    old_minutes = models.PositiveIntegerField(_("minuti prima"), null=True, blank=True)
    old_entry = models.TimeField(_("entrata prima"), null=True, blank=True)
    old_exit = models.TimeField(_("uscita prima"), null=True, blank=True)
    new_minutes = models.PositiveIntegerField(_("minuti dopo"))
    new_entry = models.TimeField(_("entrata dopo"), null=True, blank=True)
    new_exit = models.TimeField(_("uscita dopo"), null=True, blank=True)

    class Meta:
        verbose_name = _("modifica di una presenza")
        verbose_name_plural = _("storico delle presenze")
        ordering = ["-changed_at", "-pk"]
        indexes = [
            models.Index(fields=["attendance", "changed_at"], name="attendancechange_row_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.attendance_id}: {self.old_minutes} → {self.new_minutes} ({self.source})"

    @property
    def is_creation(self) -> bool:
        return self.old_minutes is None


class Scan(models.Model):
    """One append-only entry or exit at the venue, at the time it was scanned.

    A participant's minutes for a session are derived from all their scans there
    (attendance.scans) and written to Attendance through the audited service.
    """

    class Kind(models.TextChoices):
        ENTRY = "entry", _("Entrata")
        EXIT = "exit", _("Uscita")

    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="scans", verbose_name=_("giornata")
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="scans", verbose_name=_("iscrizione")
    )
    kind = models.CharField(_("tipo"), max_length=8, choices=Kind.choices)
    scanned_at = models.DateTimeField(
        _("ora della scansione"),
        help_text=_("L'ora del dispositivo al momento della scansione, anche se inviata dopo."),
    )
    received_at = models.DateTimeField(_("ricevuta il"))
    # From the scanning page, one per scan: the same upload sent twice is recorded once.
    nonce = models.UUIDField(_("identificativo della scansione"))
    source = models.CharField(_("origine"), max_length=16, choices=Source.choices)
    scanned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registrata da"),
        help_text=_("Vuoto: il sistema."),
    )
    automatic = models.BooleanField(
        _("uscita automatica"),
        default=False,
        help_text=_("Uscita non registrata, chiusa alla fine della giornata: da confermare."),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("confermata da"),
    )
    confirmed_at = models.DateTimeField(_("confermata il"), null=True, blank=True)

    class Meta:
        verbose_name = _("scansione")
        verbose_name_plural = _("scansioni")
        constraints = [
            models.UniqueConstraint(fields=["nonce"], name="scan_unique_nonce"),
            models.CheckConstraint(
                condition=Q(automatic=False) | Q(kind="exit"), name="scan_automatic_only_exit"
            ),
            models.CheckConstraint(
                condition=Q(confirmed_at__isnull=True) | Q(automatic=True),
                name="scan_confirmed_only_automatic",
            ),
        ]
        indexes = [
            models.Index(
                fields=["session", "enrollment", "scanned_at"], name="scan_person_session_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id} {self.kind} {self.scanned_at:%Y-%m-%d %H:%M:%S}"

    @property
    def needs_confirmation(self) -> bool:
        return self.automatic and self.confirmed_at is None
