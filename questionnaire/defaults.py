"""The default questionnaire, as plain data: shown as is until someone writes it, and created
with these questions by the write services only."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from questionnaire.models import Question


@dataclass(frozen=True)
class QuestionData:
    """One question as the secretariat writes it."""

    text: str
    kind: str
    required: bool = True
    order: int = 0
    choices: list[str] = field(default_factory=list)


EVALUATION_LABELS = (_("Pessimo"), _("Scarso"), _("Sufficiente"), _("Buono"), _("Ottimo"))
AMOUNT_LABELS = (_("Per niente"), _("Poco"), _("Abbastanza"), _("Molto"), _("Moltissimo"))

DEFAULT_QUESTIONS = (
    (_("Come valuta l'organizzazione del corso (sede, orari, comunicazioni)?"), EVALUATION_LABELS),
    (_("Come valuta i contenuti del corso?"), EVALUATION_LABELS),
    (_("Come valuta la chiarezza e la preparazione dei docenti?"), EVALUATION_LABELS),
    (_("Quanto ritiene utile quanto appreso per il suo lavoro?"), AMOUNT_LABELS),
    (_("Nel complesso, quanto è soddisfatto/a del corso?"), AMOUNT_LABELS),
)
SUGGESTIONS_QUESTION = _("Suggerimenti e osservazioni")


def default_questions() -> list[QuestionData]:
    """The default questionnaire, in the site's language whoever first opens it."""
    with translation.override(settings.LANGUAGE_CODE):
        questions = [
            QuestionData(
                text=str(text),
                kind=Question.Kind.SCALE,
                required=True,
                order=i,
                choices=[str(label) for label in labels],
            )
            for i, (text, labels) in enumerate(DEFAULT_QUESTIONS, start=1)
        ]
        questions.append(
            QuestionData(
                text=str(SUGGESTIONS_QUESTION),
                kind=Question.Kind.TEXT,
                required=False,
                order=len(questions) + 1,
            )
        )
    return questions
