from __future__ import annotations

import contextlib
import datetime as dt
import random
import threading

import pytest
from django.db import connection

from questionnaire.models import Completion, PendingResponse, Questionnaire, ResponseSet
from questionnaire.selectors import get_window, list_questions
from questionnaire.services import (
    QuestionnaireError,
    get_or_create_questionnaire,
    publish_pending_responses,
    submit_questionnaire,
)
from tests.factories import EnrollmentFactory

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(enrollment_id: int, answers: dict[int, int], runners: int = 2) -> list[object]:
    """Submit the same participant's questionnaire from several threads at once."""
    from enrollment.models import Enrollment

    barrier = threading.Barrier(runners)
    outcomes: list[object] = []

    def submit() -> None:
        try:
            enrollment = Enrollment.objects.select_related("course").get(pk=enrollment_id)
            barrier.wait()
            outcomes.append(submit_questionnaire(enrollment=enrollment, answers=answers))
        except BaseException as exc:  # checked by the caller
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(runners)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _setup(open_course) -> tuple[int, dict[int, int]]:
    enrollment = EnrollmentFactory(course=open_course)
    questions = list_questions(get_or_create_questionnaire(course=open_course))
    return enrollment.pk, {q.pk: 4 for q in questions if q.required}


def _assert_exactly_one_submission(outcomes: list[object], answers: dict[int, int]) -> None:
    assert sum(isinstance(o, Completion) for o in outcomes) == 1, outcomes
    refused = [o for o in outcomes if not isinstance(o, Completion)]
    assert refused and all(isinstance(o, QuestionnaireError) for o in refused), refused
    assert all("già compilato" in o.message for o in refused)
    assert Completion.objects.count() == 1
    # The loser's answers were rolled back with its completion: results count one person once.
    assert [len(p.answers) for p in PendingResponse.objects.all()] == [len(answers)]


def test_simultaneous_submissions_are_recorded_once(open_course):
    enrollment_id, answers = _setup(open_course)

    outcomes = _race(enrollment_id, answers, runners=3)

    _assert_exactly_one_submission(outcomes, answers)


def test_the_unique_completion_alone_refuses_simultaneous_submissions(open_course, monkeypatch):
    """Control: with the questionnaire lock patched out, the database still lets only one in."""
    enrollment_id, answers = _setup(open_course)
    manager = Questionnaire.objects
    monkeypatch.setattr(manager, "select_for_update", lambda **kwargs: manager.all())

    outcomes = _race(enrollment_id, answers, runners=3)

    _assert_exactly_one_submission(outcomes, answers)


# --- Two runs of the publishing task at once ---------------------------------------------------


class _MeetingShuffler(random.Random):
    """Waits at its first shuffle (right after reading the pool) for the other run to read too.

    With the questionnaire lock the other run cannot get there, and the wait times out.
    """

    def __init__(self, barrier: threading.Barrier) -> None:
        super().__init__(1)
        self.barrier = barrier
        self.waited = False

    def shuffle(self, x: list) -> None:  # type: ignore[override]
        if not self.waited:
            self.waited = True
            with contextlib.suppress(threading.BrokenBarrierError):
                self.barrier.wait(timeout=3)
        super().shuffle(x)


def _publish_twice_at_once(now) -> list[object]:
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def publish() -> None:
        try:
            outcomes.append(publish_pending_responses(now=now, rng=_MeetingShuffler(barrier)))
        except BaseException as exc:  # checked by the caller
            outcomes.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=publish) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _pool_of(open_course, count: int) -> dt.datetime:
    questions = list_questions(get_or_create_questionnaire(course=open_course))
    answers = {q.pk: 4 for q in questions if q.required}
    for _ in range(count):
        submit_questionnaire(enrollment=EnrollmentFactory(course=open_course), answers=answers)
    return get_window(get_or_create_questionnaire(course=open_course)).closes_at


def test_two_simultaneous_publications_publish_each_response_once(open_course):
    closes_at = _pool_of(open_course, 4)

    outcomes = _publish_twice_at_once(closes_at)

    assert sorted(outcomes) == [0, 4]
    assert ResponseSet.objects.count() == 4
    assert not PendingResponse.objects.exists()


def test_without_the_lock_two_publications_would_publish_twice(open_course, monkeypatch):
    """Control: with the questionnaire lock patched out, both runs publish the same pool."""
    closes_at = _pool_of(open_course, 4)
    manager = Questionnaire.objects
    monkeypatch.setattr(manager, "select_for_update", lambda **kwargs: manager.all())

    _publish_twice_at_once(closes_at)

    assert ResponseSet.objects.count() == 8
