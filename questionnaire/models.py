from __future__ import annotations

import uuid

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from courses.models import Course
from enrollment.models import Enrollment

SCALE_VALUES = (1, 2, 3, 4, 5)


class Questionnaire(models.Model):
    """The end-of-course questionnaire of one course: its questions and when it is open."""

    course = models.OneToOneField(
        Course, on_delete=models.CASCADE, related_name="questionnaire", verbose_name=_("corso")
    )
    opens_at = models.DateTimeField(
        _("aperto dal"),
        null=True,
        blank=True,
        help_text=_("Vuoto: dall'inizio dell'ultima giornata del corso."),
    )
    closes_at = models.DateTimeField(
        _("chiuso dal"),
        null=True,
        blank=True,
        help_text=_("Vuoto: un numero prefissato di giorni dopo l'ultima giornata del corso."),
    )
    created_at = models.DateTimeField(_("creato il"), auto_now_add=True)

    class Meta:
        verbose_name = _("questionario")
        verbose_name_plural = _("questionari")
        ordering = ["course"]
        permissions = [("view_results", _("Può vedere ed esportare i risultati del questionario"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(opens_at__isnull=True)
                | Q(closes_at__isnull=True)
                | Q(opens_at__lt=F("closes_at")),
                name="questionnaire_opens_before_closing",
                violation_error_message=_("La chiusura deve seguire l'apertura."),
            ),
        ]

    def __str__(self) -> str:
        return str(self.course)


class Question(models.Model):
    """One question; `choices` holds the options (single choice) or the five labels (scale)."""

    class Kind(models.TextChoices):
        SCALE = "scale", _("Scala da 1 a 5")
        CHOICE = "choice", _("Scelta singola")
        TEXT = "text", _("Testo libero")

    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("questionario"),
    )
    order = models.PositiveSmallIntegerField(_("ordine"))
    text = models.CharField(_("domanda"), max_length=500)
    kind = models.CharField(_("tipo"), max_length=10, choices=Kind.choices)
    required = models.BooleanField(_("obbligatoria"), default=True)
    choices = models.JSONField(
        _("opzioni"),
        default=list,
        blank=True,
        help_text=_("Scelta singola: le opzioni. Scala: le etichette dei valori da 1 a 5."),
    )

    class Meta:
        verbose_name = _("domanda")
        verbose_name_plural = _("domande")
        ordering = ["questionnaire", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "order"], name="question_unique_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.text}"

    def scale_label(self, value: int) -> str:
        """«4 – Buono», or just «4» when the scale has no labels."""
        labels = self.choices if self.kind == self.Kind.SCALE else []
        if len(labels) == len(SCALE_VALUES) and labels[value - 1]:
            return f"{value} – {labels[value - 1]}"
        return str(value)


class ResponseSet(models.Model):
    """One participant's answers, with no link to who gave them.

    Anonymity is in the schema: there is no foreign key to the user, profile or enrolment, no
    timestamp that could be matched with the completion's, and a random primary key so that
    ordering by id does not replay the order in which people submitted.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="response_sets",
        verbose_name=_("questionario"),
    )

    class Meta:
        verbose_name = _("insieme di risposte")
        verbose_name_plural = _("insiemi di risposte")

    def __str__(self) -> str:
        return str(self.pk)


class Answer(models.Model):
    """The answer to one question; random primary key for the same reason as ResponseSet."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    response_set = models.ForeignKey(
        ResponseSet,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=_("insieme di risposte"),
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="answers", verbose_name=_("domanda")
    )
    scale_value = models.PositiveSmallIntegerField(_("valore"), null=True, blank=True)
    choice_value = models.CharField(_("opzione scelta"), max_length=500, blank=True)
    text_value = models.TextField(_("testo"), blank=True)

    class Meta:
        verbose_name = _("risposta")
        verbose_name_plural = _("risposte")
        constraints = [
            models.UniqueConstraint(
                fields=["response_set", "question"], name="answer_unique_per_question"
            ),
            models.CheckConstraint(
                condition=Q(scale_value__isnull=True)
                | Q(scale_value__gte=SCALE_VALUES[0], scale_value__lte=SCALE_VALUES[-1]),
                name="answer_scale_value_range",
            ),
        ]

    def __str__(self) -> str:
        if self.scale_value is not None:
            return str(self.scale_value)
        return self.choice_value or self.text_value


class PendingResponse(models.Model):
    """One participant's answers, submitted but not yet published into the results.

    Written in its own transaction, after the completion's, and deleted when published in a
    shuffled batch: the row carries nothing else that could lead back to the completion, so no
    foreign key but the questionnaire, no timestamp, a random key and no ordering.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="pending_responses",
        verbose_name=_("questionario"),
    )
    answers = models.JSONField(
        _("risposte"),
        default=list,
        help_text=_("Una voce per risposta data: domanda e valore."),
    )

    class Meta:
        verbose_name = _("risposte in attesa di pubblicazione")
        verbose_name_plural = _("risposte in attesa di pubblicazione")

    def __str__(self) -> str:
        return str(self.pk)


class Completion(models.Model):
    """The fact that a participant has filled in the questionnaire; never what they answered."""

    # One-to-one: the unique index is what refuses a second submission, even a simultaneous one.
    enrollment = models.OneToOneField(
        Enrollment,
        on_delete=models.PROTECT,
        related_name="questionnaire_completion",
        verbose_name=_("iscrizione"),
    )
    completed_at = models.DateTimeField(_("compilato il"), default=timezone.now)

    class Meta:
        verbose_name = _("compilazione")
        verbose_name_plural = _("compilazioni")
        ordering = ["-completed_at"]

    def __str__(self) -> str:
        return str(self.enrollment)
