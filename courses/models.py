from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrganisationType


def minutes_between(start: dt.time, end: dt.time) -> int:
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)


class Teacher(models.Model):
    name = models.CharField(_("nome"), max_length=150)
    title = models.CharField(_("qualifica"), max_length=250, blank=True)
    affiliation = models.CharField(_("ente"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("docente")
        verbose_name_plural = _("docenti")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["name", "affiliation"], name="teacher_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class CreditKind(models.TextChoices):
    """The kind of FCO.AS credit a course declares (the Ordine counts them apart)."""

    FORMATIVE = "formativi", _("Crediti formativi")
    DEONTOLOGICAL = "deontologici", _("Crediti deontologici")


class CourseQuerySet(models.QuerySet["Course"]):
    def published(self) -> CourseQuerySet:
        return self.filter(is_published=True)


class Course(models.Model):
    """A course edition with its own code (C5092Z/1), seats, deadline and programme."""

    code = models.CharField(_("codice"), max_length=30, unique=True)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    title = models.CharField(_("titolo"), max_length=250)
    course_type = models.CharField(_("tipologia formativa"), max_length=60, default="Corso")
    provider = models.CharField(
        _("in collaborazione con"), max_length=200, blank=True, help_text=_("Es. SDA Bocconi")
    )
    summary = models.TextField(_("in breve"), blank=True)
    description = models.TextField(_("premessa"), blank=True)
    objectives = models.TextField(_("obiettivi"), blank=True)
    methodology = models.TextField(_("metodologia"), blank=True)
    audience = models.TextField(_("destinatari"), blank=True)
    venue = models.CharField(_("sede"), max_length=250)
    organiser = models.CharField(
        _("ente organizzatore"), max_length=200, default="Città Metropolitana di Milano"
    )
    scientific_lead = models.CharField(_("responsabile scientifico"), max_length=300, blank=True)
    secretariat = models.TextField(_("segreteria organizzativa"), blank=True)
    teachers = models.ManyToManyField(
        Teacher, verbose_name=_("docenti"), blank=True, related_name="courses"
    )
    capacity = models.PositiveIntegerField(_("posti disponibili"), default=20)
    enrollment_deadline = models.DateField(
        _("termine iscrizioni"),
        help_text=_(
            "Le iscrizioni restano aperte fino alle 23:59:59 di questo giorno (ora di Roma)."
        ),
    )
    requires_approval = models.BooleanField(
        _("conferma della segreteria"),
        default=False,
        help_text=_("Le richieste attendono la conferma della segreteria."),
    )
    is_free = models.BooleanField(_("gratuito"), default=True)
    fee = models.DecimalField(_("quota"), max_digits=8, decimal_places=2, null=True, blank=True)
    credits = models.TextField(_("crediti formativi"), blank=True)
    grants_fcoas_credits = models.BooleanField(
        _("crediti FCO.AS"),
        default=False,
        help_text=_(
            "Il corso riconosce crediti per la formazione continua degli assistenti sociali."
        ),
    )
    fcoas_credits = models.PositiveSmallIntegerField(
        _("numero di crediti FCO.AS"), null=True, blank=True
    )
    fcoas_credit_kind = models.CharField(
        _("tipo di crediti FCO.AS"),
        max_length=16,
        choices=CreditKind.choices,
        blank=True,
        help_text=_("Vuoto: il corso non dichiara il tipo di crediti."),
    )
    attendance_threshold_percent = models.PositiveSmallIntegerField(
        _("soglia minima di frequenza (%)"), default=80
    )
    eligible_professions = models.JSONField(
        _("professioni ammesse"), default=list, blank=True, help_text=_("Vuoto: tutte.")
    )
    eligible_organisation_types = models.JSONField(
        _("tipi di ente ammessi"), default=list, blank=True, help_text=_("Vuoto: tutti.")
    )
    eligible_roles = models.JSONField(
        _("ruoli ammessi"),
        default=list,
        blank=True,
        help_text=_("Parole chiave del ruolo (es. dirigente, responsabile). Vuoto: tutti."),
    )
    is_published = models.BooleanField(_("pubblicato"), default=True)
    created_at = models.DateTimeField(_("creato il"), auto_now_add=True)

    objects = CourseQuerySet.as_manager()

    class Meta:
        verbose_name = _("corso")
        verbose_name_plural = _("corsi")
        ordering = ["enrollment_deadline", "code"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="course_capacity_positive"),
            models.CheckConstraint(
                condition=Q(attendance_threshold_percent__gte=1)
                & Q(attendance_threshold_percent__lte=100),
                name="course_threshold_percent_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("courses:detail", kwargs={"slug": self.slug})

    @property
    def file_stem(self) -> str:
        """The code as the start of a file name: «C5092Z/1» → «C5092Z-1»."""
        return self.code.replace("/", "-")

    @property
    def enrollment_closes_at(self) -> dt.datetime:
        """The first instant at which enrolment is closed: midnight after the deadline day."""
        tz = ZoneInfo(settings.TIME_ZONE)
        next_day = self.enrollment_deadline + dt.timedelta(days=1)
        return dt.datetime.combine(next_day, dt.time.min, tzinfo=tz)

    def is_enrollment_open(self, now: dt.datetime | None = None) -> bool:
        return (now or timezone.now()) < self.enrollment_closes_at


class CourseQuota(models.Model):
    """A share of a course's seats reserved for one type of organisation."""

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="quotas", verbose_name=_("corso")
    )
    organisation_type = models.CharField(
        _("tipo di ente"), max_length=32, choices=OrganisationType.choices
    )
    seats = models.PositiveIntegerField(_("posti"))

    class Meta:
        verbose_name = _("quota di posti")
        verbose_name_plural = _("quote di posti")
        ordering = ["course", "organisation_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["course", "organisation_type"], name="coursequota_unique_per_type"
            ),
            models.CheckConstraint(condition=Q(seats__gte=1), name="coursequota_seats_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.course.code}: {self.get_organisation_type_display()} ({self.seats})"


class SessionMode(models.TextChoices):
    IN_PRESENZA = "in_presenza", _("In presenza")
    ONLINE = "online", _("Online")
    MISTA = "mista", _("Mista (in presenza e online)")


class Session(models.Model):
    """One day or half day of a course; its length counts towards the course's total hours."""

    Mode = SessionMode

    course = models.ForeignKey(
        Course, on_delete=models.CASCADE, related_name="sessions", verbose_name=_("corso")
    )
    date = models.DateField(_("data"))
    start = models.TimeField(_("inizio"))
    end = models.TimeField(_("fine"))
    title = models.CharField(_("titolo"), max_length=250, blank=True)
    mode = models.CharField(
        _("modalità"), max_length=16, choices=SessionMode.choices, default=SessionMode.IN_PRESENZA
    )
    meeting_url = models.URLField(
        _("collegamento alla riunione"),
        blank=True,
        help_text=_(
            "Per le giornate online o miste: mostrato solo ai partecipanti con "
            "iscrizione confermata."
        ),
    )

    class Meta:
        verbose_name = _("giornata")
        verbose_name_plural = _("giornate")
        ordering = ["date", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=F("end")), name="session_starts_before_end"
            ),
            models.UniqueConstraint(
                fields=["course", "date", "start"], name="session_unique_per_course_start"
            ),
            # A meeting link only for a session held (also) online.
            models.CheckConstraint(
                condition=~Q(mode=SessionMode.IN_PRESENZA) | Q(meeting_url=""),
                name="session_meeting_url_only_online",
                violation_error_message=_(
                    "Il collegamento alla riunione si indica solo per le giornate online o miste."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.course.code} {self.date:%d/%m/%Y} {self.start:%H:%M}–{self.end:%H:%M}"

    @property
    def minutes(self) -> int:
        return minutes_between(self.start, self.end)

    @property
    def is_online(self) -> bool:
        """Held online, wholly or in part: participants may need the meeting link."""
        return self.mode != SessionMode.IN_PRESENZA

    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.date, self.start, tzinfo=ZoneInfo(settings.TIME_ZONE))

    def ends_at(self) -> dt.datetime:
        return dt.datetime.combine(self.date, self.end, tzinfo=ZoneInfo(settings.TIME_ZONE))


class ScheduleItem(models.Model):
    """A slot of the programme inside a session."""

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="items", verbose_name=_("giornata")
    )
    start = models.TimeField(_("inizio"))
    end = models.TimeField(_("fine"))
    title = models.TextField(_("contenuti"))
    teachers = models.ManyToManyField(
        Teacher, verbose_name=_("docenti"), blank=True, related_name="schedule_items"
    )
    speaker_note = models.CharField(
        _("altri relatori"),
        max_length=200,
        blank=True,
        help_text=_(
            "Relatori che non sono docenti del corso, es. «Funzionario del Comune di Milano»."
        ),
    )
    is_break = models.BooleanField(_("pausa"), default=False)

    class Meta:
        verbose_name = _("voce del programma")
        verbose_name_plural = _("programma")
        ordering = ["session", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=F("end")), name="scheduleitem_starts_before_end"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M} {self.title}"
