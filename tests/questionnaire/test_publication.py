"""Answers wait in an anonymous pool and are published in shuffled batches by a periodic task."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.conf import settings as django_settings
from django.db import models

from portal.celery import app as celery_app
from questionnaire.models import Answer, Completion, PendingResponse, ResponseSet
from questionnaire.selectors import get_window, has_completed
from questionnaire.services import publish_pending_responses, submit_questionnaire
from tests.factories import EnrollmentFactory
from tests.questionnaire.factories import question_ids


@pytest.fixture(autouse=True)
def _minimum(settings):
    settings.QUESTIONNAIRE_MIN_RESPONSES = 3


def _submit(course, questionnaire, count: int) -> None:
    ids = question_ids(questionnaire)
    for i in range(count):
        submit_questionnaire(
            enrollment=EnrollmentFactory(course=course),
            answers={ids["Contenuti"]: 1 + i % 5, ids["Suggerimenti"]: f"risposta {i}"},
        )


def _after_closing(questionnaire) -> dt.datetime:
    return get_window(questionnaire).closes_at + dt.timedelta(minutes=1)


def test_submission_records_the_completion_at_once_and_publishes_nothing(enrollment, questionnaire):
    ids = question_ids(questionnaire)

    submit_questionnaire(enrollment=enrollment, answers={ids["Contenuti"]: 4})

    # The certificate gate reads the completion straight away...
    assert has_completed(enrollment)
    # ...while the answers wait in the pool, out of the results.
    assert not ResponseSet.objects.exists()
    assert not Answer.objects.exists()
    pending = PendingResponse.objects.get()
    assert pending.questionnaire == questionnaire


def test_the_pool_carries_nothing_that_leads_to_a_person():
    fields = {f.name: f for f in PendingResponse._meta.concrete_fields}
    assert isinstance(PendingResponse._meta.pk, models.UUIDField)
    assert not any(
        isinstance(f, models.DateTimeField | models.DateField | models.TimeField)
        for f in fields.values()
    )
    relations = {f.related_model._meta.label_lower for f in fields.values() if f.is_relation}
    assert relations == {"questionnaire.questionnaire"}
    assert not PendingResponse._meta.ordering


def test_while_open_a_batch_waits_for_twice_the_minimum(open_course, questionnaire):
    _submit(open_course, questionnaire, 5)  # minimum 3: not yet 2 × 3

    assert publish_pending_responses() == 0

    assert PendingResponse.objects.count() == 5
    assert not ResponseSet.objects.exists()


def test_while_open_a_batch_is_published_and_the_minimum_kept_back(open_course, questionnaire):
    _submit(open_course, questionnaire, 7)

    published = publish_pending_responses()

    # At least the minimum published, and the minimum kept for the last batch, so that no
    # batch (the one at closing included) is ever smaller than the minimum.
    assert published == 4
    assert ResponseSet.objects.count() == 4
    assert PendingResponse.objects.count() == 3
    assert Answer.objects.filter(question__kind="text").count() == 4


def test_at_closing_everything_left_is_published(open_course, questionnaire):
    _submit(open_course, questionnaire, 2)

    assert publish_pending_responses(now=_after_closing(questionnaire)) == 2

    assert not PendingResponse.objects.exists()
    assert ResponseSet.objects.count() == 2


def test_one_minute_before_closing_the_small_pool_still_waits(open_course, questionnaire):
    _submit(open_course, questionnaire, 2)
    closes_at = get_window(questionnaire).closes_at

    assert publish_pending_responses(now=closes_at - dt.timedelta(minutes=1)) == 0
    assert publish_pending_responses(now=closes_at) == 2


def test_published_answers_are_exactly_those_submitted(open_course, questionnaire):
    _submit(open_course, questionnaire, 6)

    publish_pending_responses(now=_after_closing(questionnaire))

    texts = Answer.objects.filter(question__kind="text").values_list("text_value", flat=True)
    assert sorted(texts) == sorted(f"risposta {i}" for i in range(6))
    scales = Answer.objects.filter(question__kind="scale").values_list("scale_value", flat=True)
    assert Counter(scales) == Counter(1 + i % 5 for i in range(6))
    # Each person's answers stay together in one response set.
    for response_set in ResponseSet.objects.prefetch_related("answers__question"):
        kinds = sorted(a.question.kind for a in response_set.answers.all())
        assert kinds == ["scale", "text"]


def test_publishing_twice_publishes_nothing_twice(open_course, questionnaire):
    _submit(open_course, questionnaire, 4)
    after = _after_closing(questionnaire)

    assert publish_pending_responses(now=after) == 4
    assert publish_pending_responses(now=after) == 0

    assert ResponseSet.objects.count() == 4
    assert Completion.objects.count() == 4


def test_a_blank_optional_questionnaire_is_still_one_response(enrollment, questionnaire):
    submit_questionnaire(
        enrollment=enrollment, answers={question_ids(questionnaire)["Contenuti"]: 2}
    )

    publish_pending_responses(now=_after_closing(questionnaire))

    assert ResponseSet.objects.count() == 1
    assert list(Answer.objects.values_list("scale_value", flat=True)) == [2]


def test_the_task_is_registered_and_scheduled():
    from questionnaire.tasks import publish_pending_responses_task

    assert publish_pending_responses_task.name in celery_app.tasks
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert publish_pending_responses_task.name in scheduled
    entry = next(
        e
        for e in django_settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == publish_pending_responses_task.name
    )
    assert entry["schedule"] <= 15 * 60  # every few minutes


def test_the_task_publishes(open_course, questionnaire):
    from questionnaire.tasks import publish_pending_responses_task

    _submit(open_course, questionnaire, 6)

    assert publish_pending_responses_task.delay().get() == 3

    assert ResponseSet.objects.count() == 3


def test_settings_defaults():
    assert django_settings.QUESTIONNAIRE_CLOSES_AFTER_DAYS == 14


def test_the_default_minimum_is_five():
    from portal import settings as portal_settings

    assert portal_settings.QUESTIONNAIRE_MIN_RESPONSES == 5
