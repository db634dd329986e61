from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from courses.models import Course


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

    class Meta:
        verbose_name = _("iscrizione")
        verbose_name_plural = _("iscrizioni")
        ordering = ["course", "created_at"]
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

    def __str__(self) -> str:
        return f"{self.user} – {self.course.code} ({self.get_status_display()})"
