"""On PostgreSQL, nothing in storage joins a completion to the answers it came with.

A reader of the database (or of a backup) sees each row's creating transaction id (`xmin`) and
its physical position (`ctid`, the order a plain SELECT returns). Written in the completion's
transaction, or in submission order, the answers would be that person's.
"""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.db import connection
from django.utils import timezone

from questionnaire.models import PendingResponse, Question
from questionnaire.services import publish_pending_responses, submit_questionnaire
from tests.factories import EnrollmentFactory
from tests.questionnaire.factories import question_ids

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PEOPLE = 10


def _a_year_later() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=365)  # long after closing: publish everything


def _rows(sql: str, params: list[object] | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


@pytest.fixture
def submitted(open_course, questionnaire, settings):
    """Ten participants submit one after the other; person i writes «persona i»."""
    settings.QUESTIONNAIRE_MIN_RESPONSES = 5
    ids = question_ids(questionnaire)
    for i in range(PEOPLE):
        submit_questionnaire(
            enrollment=EnrollmentFactory(course=open_course),
            answers={ids["Contenuti"]: 1 + i % 5, ids["Suggerimenti"]: f"persona {i}"},
        )
    return questionnaire


def test_pending_answers_are_not_written_in_the_completions_transaction(submitted):
    linked = _rows(
        "SELECT c.id FROM questionnaire_completion c "
        "JOIN questionnaire_pendingresponse p ON p.xmin::text = c.xmin::text"
    )

    assert linked == []
    assert PendingResponse.objects.count() == PEOPLE


def test_published_answers_share_no_transaction_with_any_completion(submitted):
    publish_pending_responses(now=_a_year_later())

    by_set = _rows(
        "SELECT c.id FROM questionnaire_completion c "
        "JOIN questionnaire_responseset r ON r.xmin::text = c.xmin::text"
    )
    by_answer = _rows(
        "SELECT c.id FROM questionnaire_completion c "
        "JOIN questionnaire_answer a ON a.xmin::text = c.xmin::text"
    )

    assert by_set == [] and by_answer == []
    # Control: the join does find rows written in one transaction: the whole batch is one.
    assert _rows("SELECT COUNT(DISTINCT xmin::text) FROM questionnaire_responseset") == [(1,)]
    assert _rows(
        "SELECT COUNT(*) FROM questionnaire_responseset r "
        "JOIN questionnaire_answer a ON a.xmin::text = r.xmin::text AND a.response_set_id = r.id"
    ) == [(2 * PEOPLE,)]
    # And the pool, whose rows were written right after each completion, is gone.
    assert not PendingResponse.objects.exists()


def test_physical_order_of_published_answers_is_not_the_order_of_submission(submitted):
    # A seeded generator, so that the test cannot flake: with it, the shuffle is a fixed
    # permutation, which the assertions below check is far from the identity.
    publish_pending_responses(now=_a_year_later(), rng=random.Random(2026))
    text_question = Question.objects.get(questionnaire=submitted, kind=Question.Kind.TEXT)

    # The order a plain SELECT returns (physical order), for response sets and for answers.
    sets_in_storage = [
        text
        for (text,) in _rows(
            "SELECT a.text_value FROM questionnaire_responseset r "
            "JOIN questionnaire_answer a ON a.response_set_id = r.id "
            "WHERE a.question_id = %s ORDER BY r.ctid",
            [text_question.pk],
        )
    ]
    answers_in_storage = [
        text
        for (text,) in _rows(
            "SELECT text_value FROM questionnaire_answer WHERE question_id = %s ORDER BY ctid",
            [text_question.pk],
        )
    ]
    submission_order = [f"persona {i}" for i in range(PEOPLE)]  # completions' order

    assert sorted(sets_in_storage) == sorted(submission_order)
    for order in (sets_in_storage, answers_in_storage):
        assert order != submission_order
        assert order != submission_order[::-1]
        # Not merely rotated or nearly sorted: most people are away from their place.
        in_place = sum(a == b for a, b in zip(order, submission_order, strict=True))
        assert in_place <= PEOPLE // 2, order
