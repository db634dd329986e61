from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.user_cache import forget_cached_user
from accounts.validators import validate_codice_fiscale

# What a participant fills in on their profile (the form, updates and the data export).
PROFILE_FIELDS = (
    "codice_fiscale",
    "profession",
    "profession_other",
    "organisation",
    "organisation_type",
    "role",
    "ambito",
    "phone",
    "ordine_regionale",
    "numero_iscrizione",
)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        # Logins are case-insensitive: "Mario.Rossi@Comune.it" is the same person.
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in with their e-mail address."""

    email = models.EmailField(_("indirizzo e-mail"), unique=True)
    first_name = models.CharField(_("nome"), max_length=150, blank=True)
    last_name = models.CharField(_("cognome"), max_length=150, blank=True)
    is_staff = models.BooleanField(
        _("staff"), default=False, help_text=_("Può accedere alle pagine della segreteria.")
    )
    is_active = models.BooleanField(_("attivo"), default=True)
    date_joined = models.DateTimeField(_("data di registrazione"), default=timezone.now)
    news_opt_in = models.BooleanField(
        _("consenso alle e-mail sui nuovi corsi"),
        default=False,
        help_text=_("Consenso facoltativo, revocabile in ogni momento dal profilo."),
    )
    language = models.CharField(
        _("lingua"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("utente")
        verbose_name_plural = _("utenti")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        # Signed-in requests read the user from the cache (accounts.backends).
        forget_cached_user(user_id=self.pk)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        user_id = self.pk
        deleted = super().delete(*args, **kwargs)
        forget_cached_user(user_id=user_id)
        return deleted

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email


class Profession(models.TextChoices):
    SOCIAL_WORKER = "assistente_sociale", _("Assistente sociale")
    EDUCATOR = "educatore_professionale", _("Educatore professionale")
    PSYCHOLOGIST = "psicologo", _("Psicologo/a")
    MANAGER = "dirigente", _("Dirigente")
    OFFICER = "funzionario", _("Funzionario/a")
    OTHER = "altro", _("Altro")


class OrganisationType(models.TextChoices):
    MUNICIPALITY = "comune", _("Comune")
    SPECIAL_AGENCY = "azienda_speciale", _("Azienda speciale / consortile")
    HEALTH_AGENCY = "ats_asst", _("ATS / ASST")
    THIRD_SECTOR = "terzo_settore", _("Ente del Terzo settore")
    OTHER = "altro", _("Altro")


class IdentityMethod(models.TextChoices):
    SPID = "spid", "SPID"
    CIE = "cie", "CIE"


# Which of a person's data an identity provider can vouch for (Profile.verified_fields).
VERIFIABLE_FIELDS = ("codice_fiscale", "first_name", "last_name", "email")


class Profile(models.Model):
    """What the organiser needs to know about a participant to enrol and certify them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="profile",
        verbose_name=_("utente"),
    )
    codice_fiscale = models.CharField(
        _("codice fiscale"), max_length=16, blank=True, validators=[validate_codice_fiscale]
    )
    profession = models.CharField(
        _("professione"), max_length=32, choices=Profession.choices, blank=True
    )
    profession_other = models.CharField(_("altra professione"), max_length=100, blank=True)
    organisation = models.CharField(_("ente di appartenenza"), max_length=200, blank=True)
    organisation_type = models.CharField(
        _("tipo di ente"), max_length=32, choices=OrganisationType.choices, blank=True
    )
    role = models.CharField(_("ruolo"), max_length=150, blank=True)
    ambito = models.CharField(_("ambito / Ufficio di Piano"), max_length=150, blank=True)
    phone = models.CharField(_("telefono"), max_length=30, blank=True)
    ordine_regionale = models.CharField(
        _("Ordine regionale"),
        max_length=100,
        blank=True,
        help_text=_("Per gli assistenti sociali: l'Ordine regionale di iscrizione."),
    )
    numero_iscrizione = models.CharField(
        _("numero di iscrizione all'Albo"), max_length=30, blank=True
    )
    # Filled from SPID or CIE (accounts.services.sign_in_with_oidc): the fields the identity
    # provider vouched for, which the person cannot change on the profile.
    verified_fields = models.JSONField(
        _("dati verificati"), default=list, blank=True, help_text=_("Da SPID o CIE.")
    )
    verified_at = models.DateTimeField(_("dati verificati il"), null=True, blank=True)
    verified_by = models.CharField(
        _("dati verificati con"), max_length=10, choices=IdentityMethod.choices, blank=True
    )
    updated_at = models.DateTimeField(_("aggiornato il"), auto_now=True)

    class Meta:
        verbose_name = _("profilo")
        verbose_name_plural = _("profili")
        constraints = [
            models.UniqueConstraint(
                fields=["codice_fiscale"],
                condition=~models.Q(codice_fiscale=""),
                name="profile_codice_fiscale_unique",
                violation_error_message=_(
                    "Questo codice fiscale è già associato a un altro account."
                ),
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    # The fields a participant must fill in before enrolling.
    REQUIRED_FOR_ENROLMENT = ("codice_fiscale", "profession", "organisation", "organisation_type")

    @property
    def is_complete(self) -> bool:
        return all(getattr(self, name) for name in self.REQUIRED_FOR_ENROLMENT) and bool(
            self.user.first_name and self.user.last_name
        )

    @property
    def profession_label(self) -> str:
        if self.profession == Profession.OTHER and self.profession_other:
            return self.profession_other
        return self.get_profession_display()


class OidcIdentity(models.Model):
    """A person as the OpenID Connect provider (SPID/CIE through the IAM proxy) knows them."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="oidc_identities",
        verbose_name=_("utente"),
    )
    issuer = models.CharField(_("emittente"), max_length=255)
    subject = models.CharField(_("identificativo presso l'emittente"), max_length=255)
    created_at = models.DateTimeField(_("collegata il"), default=timezone.now)
    last_login_at = models.DateTimeField(_("ultimo accesso"), null=True, blank=True)

    class Meta:
        verbose_name = _("identità SPID/CIE")
        verbose_name_plural = _("identità SPID/CIE")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="oidcidentity_unique_issuer_subject"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.issuer})"


class RetentionPolicy(models.Model):
    """How long an unused participant account is kept before it is anonymised (one row)."""

    inactive_days = models.PositiveIntegerField(
        _("giorni di inattività prima dell'anonimizzazione"),
        null=True,
        blank=True,
        help_text=_(
            "Vuoto: nessuna anonimizzazione automatica. Conta dall'ultimo accesso (o dalla "
            "registrazione). Attestati e presenze restano, come previsto dalla normativa."
        ),
    )
    updated_at = models.DateTimeField(_("aggiornata il"), auto_now=True)

    class Meta:
        verbose_name = _("periodo di conservazione degli account")
        verbose_name_plural = _("periodo di conservazione degli account")

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
