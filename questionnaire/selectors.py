from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from courses.selectors import get_course_schedule
from enrollment.models import Enrollment
from enrollment.selectors import list_confirmed_enrollments
from questionnaire.defaults import default_questions
from questionnaire.models import (
    SCALE_VALUES,
    Answer,
    Completion,
    PendingResponse,
    Question,
    Questionnaire,
)

if TYPE_CHECKING:
    from courses.models import Course


# --- Completion: the public reads of the certificate gate ------------------------------------


def has_completed(enrollment: Enrollment) -> bool:
    """Whether the participant has filled in the course's questionnaire (one query)."""
    return Completion.objects.filter(enrollment_id=enrollment.pk).exists()


def get_completion(enrollment: Enrollment) -> Completion | None:
    return Completion.objects.filter(enrollment_id=enrollment.pk).first()


# --- When the questionnaire is open ------------------------------------------------------------


@dataclass(frozen=True)
class QuestionnaireWindow:
    """When a questionnaire opens and closes (None: not scheduled yet)."""

    opens_at: dt.datetime | None
    closes_at: dt.datetime | None

    def is_open(self, now: dt.datetime) -> bool:
        return (
            self.opens_at is not None
            and self.opens_at <= now
            and (self.closes_at is None or now < self.closes_at)
        )

    def has_closed(self, now: dt.datetime) -> bool:
        return self.closes_at is not None and self.closes_at <= now


def get_window(questionnaire: Questionnaire) -> QuestionnaireWindow:
    """Opening (override, or the last session's start) and closing (override, or
    QUESTIONNAIRE_CLOSES_AFTER_DAYS after the last session's end), in local time.

    Uses the course's prefetched sessions when present.
    """
    opens_at, closes_at = questionnaire.opens_at, questionnaire.closes_at
    if opens_at is None or closes_at is None:
        schedule = get_course_schedule(questionnaire.course)
        if opens_at is None:
            opens_at = schedule.last_session_starts_at
        if closes_at is None and schedule.ends_at is not None:
            # Wall-clock days in the course's time zone: the hour stays put across DST.
            closes_at = schedule.ends_at + dt.timedelta(
                days=settings.QUESTIONNAIRE_CLOSES_AFTER_DAYS
            )
    return QuestionnaireWindow(
        opens_at=timezone.localtime(opens_at) if opens_at else None,
        closes_at=timezone.localtime(closes_at) if closes_at else None,
    )


def get_questionnaire(course: Course) -> Questionnaire:
    """The course's questionnaire; until a write service creates it (the first submission, the
    secretariat saving dates or questions), an unsaved one with the default dates and
    questions. Reading never writes."""
    try:
        # Through the reverse accessor, so that questionnaire.course is this very instance
        # (with any sessions the caller prefetched).
        return course.questionnaire
    except Questionnaire.DoesNotExist:
        return Questionnaire(course=course)


def list_questions(questionnaire: Questionnaire) -> list[Question]:
    """The questions in order; the defaults, unsaved, for a questionnaire not created yet."""
    if questionnaire.pk is None:
        return [
            Question(
                order=data.order,
                text=data.text,
                kind=data.kind,
                required=data.required,
                choices=list(data.choices),
            )
            for data in default_questions()
        ]
    return list(Question.objects.filter(questionnaire=questionnaire).order_by("order"))


class ParticipantState(StrEnum):
    NOT_OPEN = "not_open"
    OPEN = "open"
    CLOSED = "closed"
    COMPLETED = "completed"


@dataclass(frozen=True)
class ParticipantStatus:
    state: ParticipantState
    window: QuestionnaireWindow
    completion: Completion | None = None

    @property
    def is_open(self) -> bool:
        return self.state is ParticipantState.OPEN

    @property
    def is_completed(self) -> bool:
        return self.state is ParticipantState.COMPLETED

    @property
    def is_closed(self) -> bool:
        return self.state is ParticipantState.CLOSED

    @property
    def completed_at(self) -> dt.datetime | None:
        return timezone.localtime(self.completion.completed_at) if self.completion else None


def get_participant_status(
    *, course: Course, enrollment: Enrollment, now: dt.datetime | None = None
) -> ParticipantStatus:
    """What a confirmed participant can do with the course's questionnaire right now."""
    window = get_window(get_questionnaire(course))
    completion = get_completion(enrollment)
    now = now or timezone.now()
    if completion is not None:
        state = ParticipantState.COMPLETED
    elif window.is_open(now):
        state = ParticipantState.OPEN
    elif window.has_closed(now):
        state = ParticipantState.CLOSED
    else:
        state = ParticipantState.NOT_OPEN
    return ParticipantStatus(state=state, window=window, completion=completion)


# --- Results -----------------------------------------------------------------------------------

# Geometry of the server-rendered bar charts (SVG user units).
CHART_WIDTH = 640
CHART_LABEL_WIDTH = 200
CHART_BAR_MAX = 360
CHART_ROW = 32
CHART_BAR_HEIGHT = 20
CHART_LABEL_CHARS = 30


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    percent: float
    width: float
    y: int

    @property
    def short_label(self) -> str:
        if len(self.label) <= CHART_LABEL_CHARS:
            return self.label
        return self.label[: CHART_LABEL_CHARS - 1].rstrip() + "…"

    @property
    def text_y(self) -> int:
        return self.y + CHART_BAR_HEIGHT // 2 + 5

    @property
    def count_x(self) -> float:
        return CHART_LABEL_WIDTH + self.width + 8


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    count: int
    mean: float | None = None
    bars: list[Bar] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)

    @property
    def distribution(self) -> dict[int | str, int]:
        """Count per scale value (1..5) or per option, including the zeros."""
        keys: list[int | str] = (
            list(SCALE_VALUES)
            if self.question.kind == Question.Kind.SCALE
            else [bar.label for bar in self.bars]
        )
        return {key: bar.count for key, bar in zip(keys, self.bars, strict=True)}

    @property
    def chart_height(self) -> int:
        return CHART_ROW * len(self.bars) + 8

    @property
    def chart_width(self) -> int:
        return CHART_WIDTH

    @property
    def label_x(self) -> int:
        return CHART_LABEL_WIDTH - 8

    @property
    def bar_x(self) -> int:
        return CHART_LABEL_WIDTH

    @property
    def bar_height(self) -> int:
        return CHART_BAR_HEIGHT


@dataclass(frozen=True)
class Release:
    """Whether the results may be shown: closed, all published, at least the minimum."""

    closed: bool
    publishing: bool
    enough: bool
    minimum: int

    @property
    def released(self) -> bool:
        return self.closed and not self.publishing and self.enough


def get_min_responses() -> int:
    return max(1, settings.QUESTIONNAIRE_MIN_RESPONSES)


def get_release(questionnaire: Questionnaire, *, now: dt.datetime | None = None) -> Release:
    """Results are released only after closing, so that they cannot be differenced between
    two looks, and only from the minimum number of published responses."""
    window = get_window(questionnaire)
    minimum = get_min_responses()
    saved = questionnaire.pk is not None  # an unsaved one has no responses yet
    return Release(
        closed=window.has_closed(now or timezone.now()),
        publishing=saved and questionnaire.pending_responses.exists(),
        enough=saved and questionnaire.response_sets.count() >= minimum,
        minimum=minimum,
    )


@dataclass(frozen=True)
class QuestionnaireResults:
    """`questions` is empty unless the release allows it; the counts are always there."""

    questionnaire: Questionnaire
    release: Release
    questions: list[QuestionResult]
    responses: int
    completed: int
    confirmed: int

    @property
    def response_rate(self) -> float | None:
        """Completions of confirmed participants over confirmed participants (0..1)."""
        return self.completed / self.confirmed if self.confirmed else None

    @property
    def response_rate_percent(self) -> float | None:
        rate = self.response_rate
        return round(rate * 100, 1) if rate is not None else None


def _bars(labelled_counts: list[tuple[str, int]], total: int) -> list[Bar]:
    top = max((count for _label, count in labelled_counts), default=0)
    return [
        Bar(
            label=label,
            count=count,
            percent=round(count * 100 / total, 1) if total else 0.0,
            width=round(count * CHART_BAR_MAX / top, 1) if top else 0.0,
            y=4 + i * CHART_ROW,
        )
        for i, (label, count) in enumerate(labelled_counts)
    ]


def get_results(course: Course, *, now: dt.datetime | None = None) -> QuestionnaireResults:
    """Per question: count, mean and distribution, or the free-text answers, when released;
    the number of responses (completions) and the response rate, always."""
    questionnaire = get_questionnaire(course)
    release = get_release(questionnaire, now=now)
    confirmed = list_confirmed_enrollments(course).count()
    completed = Completion.objects.filter(
        enrollment__course=course, enrollment__status=Enrollment.Status.CONFIRMED
    ).count()
    return QuestionnaireResults(
        questionnaire=questionnaire,
        release=release,
        questions=_question_results(questionnaire) if release.released else [],
        responses=Completion.objects.filter(enrollment__course=course).count(),
        completed=completed,
        confirmed=confirmed,
    )


def _question_results(questionnaire: Questionnaire) -> list[QuestionResult]:
    questions = list_questions(questionnaire)
    counts: dict[int, Counter[int | str]] = defaultdict(Counter)
    rows = (
        Answer.objects.filter(question__questionnaire=questionnaire)
        .exclude(question__kind=Question.Kind.TEXT)
        .values_list("question_id", "scale_value", "choice_value")
    )
    for question_id, scale_value, choice_value in rows:
        counts[question_id][scale_value if scale_value is not None else choice_value] += 1
    texts: dict[int, list[str]] = defaultdict(list)
    # Ordered by the random id of the response set: never in the order people submitted.
    text_rows = (
        Answer.objects.filter(
            question__questionnaire=questionnaire, question__kind=Question.Kind.TEXT
        )
        .order_by("response_set_id")
        .values_list("question_id", "text_value")
    )
    for question_id, text in text_rows:
        texts[question_id].append(text)

    results = []
    for question in questions:
        counter = counts[question.pk]
        if question.kind == Question.Kind.TEXT:
            answers = texts[question.pk]
            results.append(QuestionResult(question=question, count=len(answers), texts=answers))
            continue
        total = sum(counter.values())
        if question.kind == Question.Kind.SCALE:
            labelled = [(question.scale_label(v), counter[v]) for v in SCALE_VALUES]
            mean = sum(v * counter[v] for v in SCALE_VALUES) / total if total else None
        else:
            options = list(question.choices)
            # An option removed after it was chosen still shows up, rather than vanishing.
            options += sorted(str(k) for k in counter if k not in options)
            labelled = [(option, counter[option]) for option in options]
            mean = None
        results.append(
            QuestionResult(
                question=question,
                count=total,
                mean=round(mean, 2) if mean is not None else None,
                bars=_bars(labelled, total),
            )
        )
    return results


def is_window_frozen(questionnaire: Questionnaire, *, now: dt.datetime | None = None) -> bool:
    """Closed with answers: its results may have been seen, so its dates never change again
    (reopening it would let a new answer be told apart)."""
    return get_window(questionnaire).has_closed(now or timezone.now()) and has_answers(
        questionnaire
    )


def has_answers(questionnaire: Questionnaire) -> bool:
    """Whether anyone has submitted, published or not: then the questions are fixed."""
    if Completion.objects.filter(enrollment__course_id=questionnaire.course_id).exists():
        return True
    if questionnaire.pk is None:
        return False  # not created yet: no answer can point to it
    return (
        PendingResponse.objects.filter(questionnaire=questionnaire).exists()
        or questionnaire.response_sets.exists()
    )


def list_export_rows(questionnaire: Questionnaire) -> tuple[list[str], list[list[str]]]:
    """The header (one column per question) and one row per response set, in random order.

    Callers check get_release() first.
    """
    questions = list_questions(questionnaire)
    column = {question.pk: i for i, question in enumerate(questions)}
    # Response sets have random UUIDs: this order says nothing about who submitted first.
    # A set whose answers were all optional and left blank is still a row.
    set_ids = questionnaire.response_sets.order_by("pk").values_list("pk", flat=True)
    rows = {set_id: [""] * len(questions) for set_id in set_ids}
    answers = Answer.objects.filter(response_set__questionnaire=questionnaire).values_list(
        "response_set_id", "question_id", "scale_value", "choice_value", "text_value"
    )
    for set_id, question_id, scale_value, choice_value, text_value in answers:
        if set_id not in rows:
            continue  # submitted after the sets were listed: it will be in the next export
        value = str(scale_value) if scale_value is not None else (choice_value or text_value)
        rows[set_id][column[question_id]] = value
    return [question.text for question in questions], list(rows.values())
