from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AccessibilityFeedback(models.Model):
    """A report sent through the accessibility statement's feedback form (AgID's guidelines ask
    for one). The row is also the outbox entry of the e-mail that forwards it to the
    secretariat."""

    class EmailStatus(models.TextChoices):
        PENDING = "pending", _("Da inviare")
        SENT = "sent", _("Inviata")
        FAILED = "failed", _("Non inviata")

    name = models.CharField(_("nome"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"))
    page_url = models.CharField(_("pagina interessata"), max_length=500, blank=True)
    message = models.TextField(_("segnalazione"), max_length=5000)
    created_at = models.DateTimeField(_("ricevuta il"), default=timezone.now)
    email_status = models.CharField(
        _("stato dell'e-mail alla segreteria"),
        max_length=10,
        choices=EmailStatus.choices,
        default=EmailStatus.PENDING,
    )
    email_attempts = models.PositiveSmallIntegerField(_("tentativi di invio"), default=0)
    emailed_at = models.DateTimeField(_("inoltrata il"), null=True, blank=True)

    class Meta:
        verbose_name = _("segnalazione sull'accessibilità")
        verbose_name_plural = _("segnalazioni sull'accessibilità")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(email_status="sent") | Q(emailed_at__isnull=False),
                name="accessibilityfeedback_sent_has_date",
            ),
            models.CheckConstraint(
                condition=~Q(message=""), name="accessibilityfeedback_has_message"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.created_at:%Y-%m-%d})"
