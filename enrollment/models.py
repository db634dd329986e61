from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from courses.models import Course


class EnrollmentQuerySet(models.QuerySet["Enrollment"]):
    def active(self) -> EnrollmentQuerySet:
        """Holding a seat, asking for one or waiting for one (see `Enrollment.is_active`)."""
        return self.filter(status__in=ACTIVE_STATUSES)

    def holding_seats(self) -> EnrollmentQuerySet:
        """Counted against the course's seats (see `SEAT_HOLDING_STATUSES`)."""
        return self.filter(status__in=SEAT_HOLDING_STATUSES)


class Enrollment(models.Model):
    """A person's place (or request, or place in line) in one course."""

    class Status(models.TextChoices):
        REQUESTED = "requested", _("In attesa di conferma")
        CONFIRMED = "confirmed", _("Confermata")
        WAITLISTED = "waitlisted", _("In lista d'attesa")
        REJECTED = "rejected", _("Respinta")
        CANCELLED = "cancelled", _("Annullata")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="enrollments",
        verbose_name=_("partecipante"),
    )
    course = models.ForeignKey(
        Course, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("corso")
    )
    status = models.CharField(_("stato"), max_length=16, choices=Status.choices)
    quota_key = models.CharField(
        _("quota"),
        max_length=32,
        blank=True,
        help_text=_("Tipo di ente da cui l'iscrizione prende il posto, se il corso ha quote."),
    )
    created_at = models.DateTimeField(_("richiesta il"), auto_now_add=True)
    updated_at = models.DateTimeField(_("aggiornata il"), auto_now=True)
    confirmed_at = models.DateTimeField(_("confermata il"), null=True, blank=True)
    waitlisted_at = models.DateTimeField(_("in lista d'attesa dal"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("annullata il"), null=True, blank=True)

    objects = EnrollmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("iscrizione")
        verbose_name_plural = _("iscrizioni")
        # No foreign key here: a default ordering on `course` would join (and, in a locking
        # query, lock) the course row too.
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "user"], name="enrollment_unique_per_user_course"
            ),
        ]
        indexes = [
            models.Index(
                fields=["course", "status", "quota_key"], name="enrollment_seat_count_idx"
            ),
        ]
        permissions = [("manage_enrollments", _("Può gestire le iscrizioni ai corsi"))]

    def __str__(self) -> str:
        return f"{self.user} – {self.course.code} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        """Holds a seat, asks for one or waits for one."""
        return self.status in ACTIVE_STATUSES

    @property
    def holds_seat(self) -> bool:
        return self.status in SEAT_HOLDING_STATUSES

    @property
    def is_confirmed(self) -> bool:
        """A participant: attendance, the questionnaire and the certificate are theirs."""
        return self.status == self.Status.CONFIRMED

    @property
    def is_awaiting_approval(self) -> bool:
        return self.status == self.Status.REQUESTED


# The one definition of each group of states, for properties and queries alike.
ACTIVE_STATUSES = (
    Enrollment.Status.REQUESTED,
    Enrollment.Status.CONFIRMED,
    Enrollment.Status.WAITLISTED,
)
# A request awaiting the secretariat holds a seat too, so the secretariat is never asked to
# approve more people than there are seats.
SEAT_HOLDING_STATUSES = (Enrollment.Status.CONFIRMED, Enrollment.Status.REQUESTED)


class EnrollmentChange(models.Model):
    """One append-only history entry: who changed an enrolment's state, when, how and why."""

    class Action(models.TextChoices):
        ENROLLED = "enrolled", _("Iscrizione")
        APPROVED = "approved", _("Richiesta confermata")
        CONFIRMED_FROM_WAITLIST = "confirmed_from_waitlist", _("Confermata dalla lista d'attesa")
        PROMOTED = "promoted", _("Posto assegnato dalla lista d'attesa")
        WAITLISTED = "waitlisted", _("Spostata in lista d'attesa")
        REJECTED = "rejected", _("Respinta")
        CANCELLED = "cancelled", _("Annullata")

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="changes", verbose_name=_("iscrizione")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("eseguita da"),
        help_text=_("Vuoto: il sistema."),
    )
    changed_at = models.DateTimeField(_("eseguita il"))
    action = models.CharField(_("azione"), max_length=32, choices=Action.choices)
    old_status = models.CharField(
        _("stato prima"), max_length=16, choices=Enrollment.Status.choices, blank=True
    )
    new_status = models.CharField(_("stato dopo"), max_length=16, choices=Enrollment.Status.choices)
    reason = models.TextField(_("motivo"), blank=True)

    class Meta:
        verbose_name = _("modifica di un'iscrizione")
        verbose_name_plural = _("storico delle iscrizioni")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["enrollment", "changed_at"], name="enrollmentchange_row_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.enrollment_id}: {self.old_status or '–'} → {self.new_status} ({self.action})"


class Notification(models.Model):
    """An e-mail to a participant, written in the same transaction as the change it reports.

    This is the outbox: a row exists for every e-mail that must go out, so nothing is lost when the
    broker or the mail server is down, and its status makes sending idempotent when a task runs
    twice.
    """

    class Kind(models.TextChoices):
        REQUEST_RECEIVED = "request_received", _("Richiesta ricevuta")
        CONFIRMED = "confirmed", _("Iscrizione confermata")
        WAITLISTED = "waitlisted", _("In lista d'attesa")
        PROMOTED = "promoted", _("Posto liberato dalla lista d'attesa")
        REJECTED = "rejected", _("Richiesta respinta")
        CANCELLED = "cancelled", _("Iscrizione annullata")
        REMINDER = "reminder", _("Promemoria")

    class Status(models.TextChoices):
        PENDING = "pending", _("Da inviare")
        SENT = "sent", _("Inviata")
        FAILED = "failed", _("Non inviata")

    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("iscrizione"),
    )
    kind = models.CharField(_("tipo"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("stato"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("tentativi"), default=0)
    last_error = models.TextField(_("ultimo errore"), blank=True)
    created_at = models.DateTimeField(_("creata il"), auto_now_add=True)
    sent_at = models.DateTimeField(_("inviata il"), null=True, blank=True)

    class Meta:
        verbose_name = _("e-mail al partecipante")
        verbose_name_plural = _("e-mail ai partecipanti")
        ordering = ["-created_at"]
        constraints = [
            # One reminder per enrolment, however often the periodic task runs.
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=models.Q(kind="reminder"),
                name="notification_one_reminder_per_enrollment",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="notification_outbox_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.enrollment_id} ({self.status})"
