from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from enrollment.models import Enrollment
from questionnaire.defaults import QuestionData, default_questions
from questionnaire.models import (
    SCALE_VALUES,
    Answer,
    Completion,
    PendingResponse,
    Question,
    Questionnaire,
    ResponseSet,
)
from questionnaire.selectors import (
    get_min_responses,
    get_window,
    has_answers,
    is_window_frozen,
)
from questionnaire.signals import questionnaire_completed

if TYPE_CHECKING:
    from courses.models import Course


class QuestionnaireError(Exception):
    """A questionnaire action that cannot be done, with a message for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _create_questions(*, questionnaire: Questionnaire, questions: Sequence[QuestionData]) -> None:
    # Renumber 1..n in the requested order, so that ties or gaps never break the unique order.
    ordered = sorted(enumerate(questions), key=lambda pair: (pair[1].order, pair[0]))
    rows = []
    for number, (_position, data) in enumerate(ordered, start=1):
        row = Question(
            questionnaire=questionnaire,
            order=number,
            text=data.text.strip(),
            kind=data.kind,
            required=data.required,
            choices=[c.strip() for c in data.choices if c.strip()],
        )
        _validate_question(row)
        rows.append(row)
    Question.objects.bulk_create(rows)


class OptionsProblem(StrEnum):
    """What is wrong with a question's options, for each caller to word in its own place."""

    TOO_FEW_CHOICES = "too_few_choices"
    WRONG_SCALE_LABELS = "wrong_scale_labels"
    TEXT_WITH_OPTIONS = "text_with_options"


def get_options_problem(*, kind: str, choices: Sequence[str]) -> OptionsProblem | None:
    """The rule for a question's options: a single choice has at least two, a scale five labels
    (one per value) or none, a free text none. Used by the service and the editing form."""
    if kind == Question.Kind.CHOICE and len(choices) < 2:
        return OptionsProblem.TOO_FEW_CHOICES
    if kind == Question.Kind.SCALE and choices and len(choices) != len(SCALE_VALUES):
        return OptionsProblem.WRONG_SCALE_LABELS
    if kind == Question.Kind.TEXT and choices:
        return OptionsProblem.TEXT_WITH_OPTIONS
    return None


_OPTIONS_MESSAGES = {
    OptionsProblem.TOO_FEW_CHOICES: _("La domanda «%(text)s» deve avere almeno due opzioni."),
    OptionsProblem.WRONG_SCALE_LABELS: _(
        "La scala «%(text)s» deve avere cinque etichette, una per valore."
    ),
    OptionsProblem.TEXT_WITH_OPTIONS: _("La domanda a testo libero «%(text)s» non ha opzioni."),
}


def _validate_question(question: Question) -> None:
    problem = get_options_problem(kind=question.kind, choices=question.choices)
    if problem is not None:
        raise QuestionnaireError(str(_OPTIONS_MESSAGES[problem]) % {"text": question.text})
    try:
        question.full_clean(exclude=["questionnaire", "order"], validate_constraints=False)
    except ValidationError as exc:
        raise QuestionnaireError(" ".join(exc.messages)) from exc


def create_default_questionnaire(*, course: Course) -> Questionnaire:
    """Create the course's questionnaire with the default questions."""
    with transaction.atomic():
        questionnaire = Questionnaire.objects.create(course=course)
        _create_questions(questionnaire=questionnaire, questions=default_questions())
    return questionnaire


def get_or_create_questionnaire(*, course: Course) -> Questionnaire:
    """The course's questionnaire, created with the default questions by the first write that
    needs it (a submission, the secretariat saving dates or questions)."""
    try:
        # Through the reverse accessor, so that questionnaire.course is this very instance
        # (with any sessions the caller prefetched).
        existing = course.questionnaire
    except Questionnaire.DoesNotExist:
        existing = None
    # The accessor may hold the unsaved default that get_questionnaire showed on this instance.
    if existing is not None and existing.pk is not None:
        return existing
    try:
        # A savepoint, so that losing the race to another request leaves any caller's
        # transaction usable: the winner's questionnaire is then simply read back.
        with transaction.atomic():
            return create_default_questionnaire(course=course)
    except IntegrityError:
        questionnaire = Questionnaire.objects.get(course=course)
        questionnaire.course = course
        return questionnaire


def replace_questions(
    *, questionnaire: Questionnaire, questions: Sequence[QuestionData]
) -> list[Question]:
    """Replace all the questions, as long as nobody has answered yet."""
    if not questions:
        raise QuestionnaireError(gettext("Il questionario deve avere almeno una domanda."))
    with transaction.atomic(durable=True):
        # Lock the questionnaire, since submissions lock it too: no answer can arrive between
        # the check below and the replacement, so results never mix two versions.
        Questionnaire.objects.select_for_update(no_key=True).get(pk=questionnaire.pk)
        # Completions count too: their answers may still be waiting to be published.
        if has_answers(questionnaire):
            raise QuestionnaireError(
                gettext(
                    "Il questionario ha già delle risposte: le domande non si possono più "
                    "modificare, perché i risultati resterebbero incoerenti."
                )
            )
        Question.objects.filter(questionnaire=questionnaire).delete()
        _create_questions(questionnaire=questionnaire, questions=questions)
    return list(questionnaire.questions.order_by("order"))


def update_questionnaire_window(
    *,
    questionnaire: Questionnaire,
    opens_at: dt.datetime | None,
    closes_at: dt.datetime | None,
) -> Questionnaire:
    """Set when the questionnaire opens (None: last session's start) and closes (None: the set
    number of days after the last session); once closed with answers, no longer."""
    if is_window_frozen(questionnaire):
        raise QuestionnaireError(
            gettext("Il questionario è già chiuso: le sue date non si possono più modificare.")
        )
    questionnaire.opens_at = opens_at
    questionnaire.closes_at = closes_at
    try:
        questionnaire.full_clean(exclude=["course"])
    except ValidationError as exc:
        raise QuestionnaireError(" ".join(exc.messages)) from exc
    with transaction.atomic(durable=True):
        questionnaire.save(update_fields=["opens_at", "closes_at"])
    return questionnaire


AnswerValue = int | str | None


def _answer_for(question: Question, value: AnswerValue) -> Answer | None:
    """The answer row for a value, None when left blank; raises when the value is invalid."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if question.required:
            raise QuestionnaireError(
                gettext("Rispondi alla domanda «%(text)s».") % {"text": question.text}
            )
        return None
    invalid = QuestionnaireError(
        gettext("Risposta non valida alla domanda «%(text)s».") % {"text": question.text}
    )
    if question.kind == Question.Kind.SCALE:
        try:
            number = int(value)
        except (TypeError, ValueError) as exc:
            raise invalid from exc
        if number not in SCALE_VALUES:
            raise invalid
        return Answer(question=question, scale_value=number)
    if question.kind == Question.Kind.CHOICE:
        if value not in question.choices:
            raise invalid
        return Answer(question=question, choice_value=str(value))
    return Answer(question=question, text_value=str(value).strip())


def submit_questionnaire(
    *,
    enrollment: Enrollment,
    answers: Mapping[int, AnswerValue],
    now: dt.datetime | None = None,
) -> Completion:
    """Record a participant's completion at once, then their answers in the anonymous pool."""
    now = now or timezone.now()
    questionnaire = get_or_create_questionnaire(course=enrollment.course)
    try:
        with transaction.atomic(durable=True):
            # Lock the questionnaire so that the questions cannot be edited while we answer
            # them. The completion's unique enrolment, not this lock, refuses a second
            # submission: it holds even for writers that do not take the lock.
            questionnaire = Questionnaire.objects.select_for_update(no_key=True).get(
                pk=questionnaire.pk
            )
            # Read the status afresh: the enrolment may have been cancelled since it was loaded.
            if not Enrollment.objects.filter(
                pk=enrollment.pk, status=Enrollment.Status.CONFIRMED
            ).exists():
                raise QuestionnaireError(
                    gettext(
                        "Il questionario è riservato ai partecipanti con iscrizione confermata."
                    )
                )
            window = get_window(questionnaire)
            if not window.is_open(now):
                raise QuestionnaireError(
                    gettext("Il questionario non è aperto: non è possibile inviarlo ora.")
                )
            rows = [
                row
                for question in questionnaire.questions.order_by("order")
                if (row := _answer_for(question, answers.get(question.pk))) is not None
            ]
            completion = Completion.objects.create(enrollment=enrollment, completed_at=now)
            transaction.on_commit(
                lambda: questionnaire_completed.send(sender=Completion, enrollment_id=enrollment.pk)
            )
    except IntegrityError as exc:
        if not Completion.objects.filter(enrollment_id=enrollment.pk).exists():
            raise
        raise QuestionnaireError(
            gettext("Hai già compilato questo questionario: non è possibile inviarlo di nuovo.")
        ) from exc
    # Not in the completion's transaction: rows written together share a transaction id
    # (xmin) that anyone with the database or a backup could join on. Once the completion has
    # committed the questions are locked (has_answers), so the answers validated above still
    # fit. Should this write fail, the answers are lost but the completion, which the
    # certificate depends on, stands.
    with transaction.atomic(durable=True):
        PendingResponse.objects.create(
            questionnaire=questionnaire,
            answers=[
                {
                    "question_id": row.question_id,
                    "scale_value": row.scale_value,
                    "choice_value": row.choice_value,
                    "text_value": row.text_value,
                }
                for row in rows
            ],
        )
    return completion


def publish_pending_responses(
    *, now: dt.datetime | None = None, rng: random.Random | None = None
) -> int:
    """Move pending answers into the results in shuffled batches; returns how many.

    While a questionnaire is open, a batch goes out only when the pool holds twice the minimum,
    and the minimum stays behind, so that the last batch, published whole at closing, is never
    smaller than the minimum either (each batch's members can be bounded by transaction ids).
    """
    now = now or timezone.now()
    rng = rng or random.SystemRandom()
    ids = (
        PendingResponse.objects.order_by("questionnaire_id")
        .values_list("questionnaire_id", flat=True)
        .distinct()
    )
    return sum(
        _publish_batch(questionnaire_id=pk, now=now, rng=rng, minimum=get_min_responses())
        for pk in list(ids)
    )


def _publish_batch(
    *, questionnaire_id: int, now: dt.datetime, rng: random.Random, minimum: int
) -> int:
    with transaction.atomic(durable=True):
        # Lock the questionnaire, since two runs of the task may overlap: the second then finds
        # the rows the first one published already deleted.
        questionnaire = (
            Questionnaire.objects.select_for_update(no_key=True)
            .select_related("course")
            .get(pk=questionnaire_id)
        )
        pending = list(PendingResponse.objects.filter(questionnaire=questionnaire))
        rng.shuffle(pending)
        if get_window(questionnaire).has_closed(now):
            batch = pending
        elif len(pending) >= 2 * minimum:
            batch = pending[: len(pending) - minimum]
        else:
            return 0
        questions = set(questionnaire.questions.values_list("pk", flat=True))
        response_sets, answers = [], []
        # Rows are inserted in shuffled order, so their physical order (what a plain SELECT
        # returns) is not the order of submission; all of them get this transaction's xmin.
        for row in batch:
            response_set = ResponseSet(id=uuid.uuid4(), questionnaire=questionnaire)
            response_sets.append(response_set)
            answers += [
                Answer(response_set=response_set, **answer)
                for answer in row.answers
                if answer["question_id"] in questions
            ]
        rng.shuffle(answers)
        ResponseSet.objects.bulk_create(response_sets)
        Answer.objects.bulk_create(answers)
        PendingResponse.objects.filter(pk__in=[row.pk for row in batch]).delete()
    return len(batch)
