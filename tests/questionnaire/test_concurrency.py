from __future__ import annotations

import threading

import pytest
from django.db import connection

from questionnaire.models import Completion, PendingResponse, Questionnaire
from questionnaire.selectors import get_questionnaire, list_questions
from questionnaire.services import QuestionnaireError, submit_questionnaire
from tests.factories import EnrollmentFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


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
        except BaseException as exc:  # noqa: BLE001 - checked by the caller
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
    questions = list_questions(get_questionnaire(open_course))
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
