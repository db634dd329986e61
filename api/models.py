from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A key for an organisation's own system: it sees only the people of that organisation."""

    class Scope(models.TextChoices):
        READ = "read", _("Sola lettura")
        WRITE = "write", _("Lettura e scrittura")

    name = models.CharField(_("nome"), max_length=100)
    organisation = models.CharField(
        _("ente"),
        max_length=200,
        help_text=_("Come scritto nel profilo dei partecipanti (maiuscole e minuscole ignorate)."),
    )
    scope = models.CharField(_("ambito"), max_length=8, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(_("prefisso"), max_length=12, editable=False)
    hashed_key = models.CharField(
        _("impronta SHA-256 della chiave"), max_length=64, unique=True, editable=False
    )
    created_at = models.DateTimeField(_("creata il"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revocata il"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("ultimo utilizzo"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("chiave API")
        verbose_name_plural = _("chiavi API")
        ordering = ["organisation", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(scope__in=["read", "write"]), name="apikey_scope_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation}, {self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE
