from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError
from django.utils import timezone

from enrollment.models import Enrollment
from questionnaire.models import Answer, Completion, PendingResponse, Question, ResponseSet
from questionnaire.selectors import get_completion, get_window, has_completed
from questionnaire.services import (
    QuestionnaireError,
    get_or_create_questionnaire,
    publish_pending_responses,
    submit_questionnaire,
)
from questionnaire.signals import questionnaire_completed
from tests.factories import CourseFactory, EnrollmentFactory, SessionFactory
from tests.questionnaire.factories import CompletionFactory, question_ids

ROME = ZoneInfo("Europe/Rome")


def _publish(questionnaire) -> None:
    publish_pending_responses(now=get_window(questionnaire).closes_at)


def test_submission_records_completion_and_unlinked_answers(enrollment, questionnaire):
    ids = question_ids(questionnaire)

    completion = submit_questionnaire(
        enrollment=enrollment,
        answers={ids["Contenuti"]: 4, ids["Lo consiglieresti?"]: "Sì", ids["Suggerimenti"]: "Bene"},
    )

    assert completion.enrollment == enrollment
    _publish(questionnaire)
    response_set = ResponseSet.objects.get()
    assert response_set.questionnaire == questionnaire
    stored = {a.question.text: str(a) for a in response_set.answers.select_related("question")}
    assert stored == {"Contenuti": "4", "Lo consiglieresti?": "Sì", "Suggerimenti": "Bene"}


def test_blank_optional_answers_are_not_stored(enrollment, questionnaire):
    ids = question_ids(questionnaire)

    submit_questionnaire(
        enrollment=enrollment,
        answers={ids["Contenuti"]: 3, ids["Lo consiglieresti?"]: None, ids["Suggerimenti"]: " "},
    )
    _publish(questionnaire)

    assert list(Answer.objects.values_list("scale_value", flat=True)) == [3]
    assert ResponseSet.objects.count() == 1


def test_second_submission_is_refused_and_stores_nothing(enrollment, questionnaire):
    ids = question_ids(questionnaire)
    submit_questionnaire(enrollment=enrollment, answers={ids["Contenuti"]: 4})

    with pytest.raises(QuestionnaireError, match="già compilato"):
        submit_questionnaire(enrollment=enrollment, answers={ids["Contenuti"]: 1})

    assert Completion.objects.count() == 1
    assert PendingResponse.objects.count() == 1
    _publish(questionnaire)
    assert ResponseSet.objects.count() == 1
    assert list(Answer.objects.values_list("scale_value", flat=True)) == [4]


def test_the_database_refuses_two_completions_for_one_enrollment(enrollment):
    CompletionFactory(enrollment=enrollment)

    with pytest.raises(IntegrityError):
        Completion.objects.create(enrollment=enrollment)


def test_required_question_is_enforced(enrollment, questionnaire):
    ids = question_ids(questionnaire)

    with pytest.raises(QuestionnaireError, match="Rispondi alla domanda «Contenuti»"):
        submit_questionnaire(enrollment=enrollment, answers={ids["Suggerimenti"]: "Bene"})

    assert not Completion.objects.exists()
    assert not PendingResponse.objects.exists()
    assert not ResponseSet.objects.exists()
    assert not Answer.objects.exists()


@pytest.mark.parametrize("value", [0, 6, "quattro"])
def test_scale_answer_must_be_between_1_and_5(enrollment, questionnaire, value):
    ids = question_ids(questionnaire)

    with pytest.raises(QuestionnaireError, match="non valida"):
        submit_questionnaire(enrollment=enrollment, answers={ids["Contenuti"]: value})

    assert not Completion.objects.exists()


def test_choice_answer_must_be_one_of_the_options(enrollment, questionnaire):
    ids = question_ids(questionnaire)

    with pytest.raises(QuestionnaireError, match="non valida"):
        submit_questionnaire(
            enrollment=enrollment, answers={ids["Contenuti"]: 5, ids["Lo consiglieresti?"]: "Forse"}
        )


def test_the_database_refuses_a_scale_value_out_of_range(questionnaire):
    question = questionnaire.questions.get(kind=Question.Kind.SCALE)
    response_set = ResponseSet.objects.create(questionnaire=questionnaire)

    with pytest.raises(IntegrityError):
        Answer.objects.create(response_set=response_set, question=question, scale_value=6)


@pytest.mark.parametrize(
    "status",
    [Enrollment.Status.WAITLISTED, Enrollment.Status.REQUESTED, Enrollment.Status.CANCELLED],
)
def test_only_confirmed_participants_can_submit(open_course, questionnaire, status):
    enrollment = EnrollmentFactory(course=open_course, status=status)
    ids = question_ids(questionnaire)

    with pytest.raises(QuestionnaireError, match="iscrizione confermata"):
        submit_questionnaire(enrollment=enrollment, answers={ids["Contenuti"]: 4})

    assert not Completion.objects.exists()


def test_an_enrollment_cancelled_since_it_was_loaded_cannot_submit(enrollment, questionnaire):
    ids = question_ids(questionnaire)
    Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.CANCELLED)

    with pytest.raises(QuestionnaireError, match="iscrizione confermata"):
        submit_questionnaire(enrollment=enrollment, answers={ids["Contenuti"]: 4})


@pytest.fixture
def dated_course(db):
    """Last session starts on 11 March 2030 at 14:00, Rome time."""
    course = CourseFactory(sessions=0, enrollment_deadline=dt.date(2030, 2, 1))
    SessionFactory(course=course, date=dt.date(2030, 3, 4), start=dt.time(9, 0))
    SessionFactory(course=course, date=dt.date(2030, 3, 11), start=dt.time(14, 0))
    return course


def _answer_all_scales(enrollment: Enrollment) -> dict[int, int]:
    from questionnaire.selectors import list_questions

    return {
        q.pk: 4
        for q in list_questions(get_or_create_questionnaire(course=enrollment.course))
        if q.kind == Question.Kind.SCALE
    }


def test_questionnaire_is_refused_one_minute_before_the_last_session_starts(dated_course):
    enrollment = EnrollmentFactory(course=dated_course)
    answers = _answer_all_scales(enrollment)

    with (
        time_machine.travel(dt.datetime(2030, 3, 11, 13, 59, tzinfo=ROME), tick=False),
        pytest.raises(QuestionnaireError, match="non è aperto"),
    ):
        submit_questionnaire(enrollment=enrollment, answers=answers)

    assert not Completion.objects.exists()


def test_questionnaire_opens_when_the_last_session_starts(dated_course):
    enrollment = EnrollmentFactory(course=dated_course)
    answers = _answer_all_scales(enrollment)

    with time_machine.travel(dt.datetime(2030, 3, 11, 14, 0, tzinfo=ROME), tick=False):
        completion = submit_questionnaire(enrollment=enrollment, answers=answers)

    assert completion.completed_at == dt.datetime(2030, 3, 11, 14, 0, tzinfo=ROME)


def test_opening_can_be_moved_earlier_per_questionnaire(dated_course):
    enrollment = EnrollmentFactory(course=dated_course)
    answers = _answer_all_scales(enrollment)
    dated_course.questionnaire.opens_at = dt.datetime(2030, 3, 4, 13, 0, tzinfo=ROME)
    dated_course.questionnaire.save(update_fields=["opens_at"])

    with time_machine.travel(dt.datetime(2030, 3, 4, 13, 0, tzinfo=ROME), tick=False):
        submit_questionnaire(enrollment=enrollment, answers=answers)

    assert has_completed(enrollment)


def test_questionnaire_is_refused_after_its_closing_date(enrollment, questionnaire):
    ids = question_ids(questionnaire)
    questionnaire.closes_at = timezone.now() - dt.timedelta(minutes=1)
    questionnaire.save(update_fields=["closes_at"])

    with pytest.raises(QuestionnaireError, match="non è aperto"):
        submit_questionnaire(enrollment=enrollment, answers={ids["Contenuti"]: 4})


def test_without_a_closing_date_it_closes_the_set_days_after_the_last_session(
    dated_course, settings
):
    # The last session (11 March 2030, 14:00) ends at 18:00: closing 14 days later.
    settings.QUESTIONNAIRE_CLOSES_AFTER_DAYS = 14
    early, late = EnrollmentFactory.create_batch(2, course=dated_course)

    with time_machine.travel(dt.datetime(2030, 3, 25, 17, 59, tzinfo=ROME), tick=False):
        submit_questionnaire(enrollment=early, answers=_answer_all_scales(early))
    with (
        time_machine.travel(dt.datetime(2030, 3, 25, 18, 0, tzinfo=ROME), tick=False),
        pytest.raises(QuestionnaireError, match="non è aperto"),
    ):
        submit_questionnaire(enrollment=late, answers=_answer_all_scales(late))

    assert has_completed(early) and not has_completed(late)
    assert get_window(dated_course.questionnaire).closes_at == dt.datetime(
        2030, 3, 25, 18, 0, tzinfo=ROME
    )


def test_the_days_before_closing_are_a_setting(dated_course, settings):
    settings.QUESTIONNAIRE_CLOSES_AFTER_DAYS = 30
    enrollment = EnrollmentFactory(course=dated_course)

    with time_machine.travel(dt.datetime(2030, 4, 10, 17, 59, tzinfo=ROME), tick=False):
        submit_questionnaire(enrollment=enrollment, answers=_answer_all_scales(enrollment))

    assert has_completed(enrollment)


def test_an_explicit_closing_date_wins_over_the_default(dated_course):
    enrollment = EnrollmentFactory(course=dated_course)
    answers = _answer_all_scales(enrollment)
    dated_course.questionnaire.closes_at = dt.datetime(2031, 1, 31, tzinfo=ROME)
    dated_course.questionnaire.save(update_fields=["closes_at"])

    with time_machine.travel(dt.datetime(2031, 1, 15, 10, 0, tzinfo=ROME), tick=False):
        submit_questionnaire(enrollment=enrollment, answers=answers)

    assert has_completed(enrollment)


def test_a_course_without_sessions_never_opens_by_itself(db):
    course = CourseFactory(sessions=0)
    enrollment = EnrollmentFactory(course=course)

    with pytest.raises(QuestionnaireError, match="non è aperto"):
        submit_questionnaire(enrollment=enrollment, answers=_answer_all_scales(enrollment))


# --- Completion as seen by the certificate gate -------------------------------------------------


def test_has_completed_and_get_completion(enrollment, questionnaire, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert has_completed(enrollment) is False
    assert get_completion(enrollment) is None

    completion = submit_questionnaire(
        enrollment=enrollment, answers={question_ids(questionnaire)["Contenuti"]: 5}
    )

    with django_assert_num_queries(1):
        assert has_completed(enrollment) is True
    assert get_completion(enrollment) == completion


def test_completion_of_another_course_does_not_count(enrollment):
    other = EnrollmentFactory(user=enrollment.user)
    CompletionFactory(enrollment=other)

    assert has_completed(enrollment) is False


# --- After commit: the completion is announced, for certificates to react ------------------------


@pytest.fixture
def completions_announced():
    """The enrolment ids questionnaire_completed is sent with (certificates listens too)."""
    calls: list[int] = []

    def record(sender, *, enrollment_id, **kwargs):
        calls.append(enrollment_id)

    questionnaire_completed.connect(record, dispatch_uid="tests.completions_announced")
    yield calls
    questionnaire_completed.disconnect(dispatch_uid="tests.completions_announced")


def test_completion_is_announced_after_commit(
    enrollment, questionnaire, completions_announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        submit_questionnaire(
            enrollment=enrollment, answers={question_ids(questionnaire)["Contenuti"]: 5}
        )
    assert completions_announced == []  # nothing before the commit

    for callback in callbacks:
        callback()

    assert completions_announced == [enrollment.pk]


def test_refused_submission_announces_nothing(
    enrollment, questionnaire, completions_announced, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(QuestionnaireError):
        submit_questionnaire(enrollment=enrollment, answers={})

    assert completions_announced == []


def test_the_default_closing_keeps_the_hour_across_daylight_saving(db, settings):
    # Last session ends on 20 March 2030 at 18:00 (CET); 14 days later is in summer time.
    settings.QUESTIONNAIRE_CLOSES_AFTER_DAYS = 14
    course = CourseFactory(sessions=0, enrollment_deadline=dt.date(2030, 2, 1))
    SessionFactory(course=course, date=dt.date(2030, 3, 20), start=dt.time(14, 0))

    window = get_window(get_or_create_questionnaire(course=course))

    assert window.closes_at == dt.datetime(2030, 4, 3, 18, 0, tzinfo=ROME)
    assert window.closes_at.utcoffset() == dt.timedelta(hours=2)


def test_without_sessions_there_is_no_default_closing(db):
    course = CourseFactory(sessions=0)

    assert get_window(get_or_create_questionnaire(course=course)).closes_at is None
