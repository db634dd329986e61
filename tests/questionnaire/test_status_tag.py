from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine
from django.contrib.auth.models import AnonymousUser

from enrollment.models import Enrollment
from tests.factories import CourseFactory, EnrollmentFactory, ParticipantFactory, SessionFactory
from tests.questionnaire.factories import CompletionFactory
from tests.web.boxes import render_questionnaire_box

ROME = ZoneInfo("Europe/Rome")


def _render(course, user) -> str:
    return render_questionnaire_box(course, user).strip()


def test_nothing_for_anonymous_visitors_or_non_participants(open_course):
    EnrollmentFactory(course=open_course, status=Enrollment.Status.WAITLISTED)
    waitlisted = Enrollment.objects.get().user

    assert _render(open_course, AnonymousUser()) == ""
    assert _render(open_course, ParticipantFactory()) == ""
    assert _render(open_course, waitlisted) == ""


def test_open_questionnaire_shows_the_button(enrollment):
    html = _render(enrollment.course, enrollment.user)

    assert "Compila il questionario" in html
    assert f'href="/courses/{enrollment.course.slug}/questionnaire/"' in html


def test_not_open_yet_says_when(db):
    course = CourseFactory(sessions=0, enrollment_deadline=dt.date(2030, 2, 1))
    SessionFactory(course=course, date=dt.date(2030, 3, 11), start=dt.time(14, 0))
    enrollment = EnrollmentFactory(course=course)

    with time_machine.travel(dt.datetime(2030, 3, 11, 13, 59, tzinfo=ROME), tick=False):
        html = _render(course, enrollment.user)

    assert "Non ancora aperto: sarà disponibile da lunedì 11 marzo 2030, ore 14.00." in html
    assert "Compila il questionario" not in html


def test_completed_says_when(enrollment):
    CompletionFactory(
        enrollment=enrollment, completed_at=dt.datetime(2026, 5, 4, 23, 30, tzinfo=ROME)
    )

    html = _render(enrollment.course, enrollment.user)

    # 23:30 in Rome is already the next day in UTC: the date shown is Rome's.
    assert "Compilato lunedì 4 maggio 2026." in html
    assert "Compila il questionario" not in html


def test_tag_uses_the_prefetched_sessions(enrollment, django_assert_max_num_queries):
    from courses.selectors import get_course_for_page
    from questionnaire.selectors import get_questionnaire

    get_questionnaire(enrollment.course)
    course = get_course_for_page(slug=enrollment.course.slug)

    # enrolment, questionnaire, completion: the sessions come from the page's prefetch
    with django_assert_max_num_queries(3):
        _render(course, enrollment.user)


def test_open_questionnaire_says_until_when_it_can_be_filled_in(db):
    # The last session is on 11 March 2030; by default the questionnaire closes 14 days after.
    course = CourseFactory(sessions=0, enrollment_deadline=dt.date(2030, 2, 1))
    SessionFactory(course=course, date=dt.date(2030, 3, 11), start=dt.time(9, 0))
    enrollment = EnrollmentFactory(course=course)

    with time_machine.travel(dt.datetime(2030, 3, 12, 10, 0, tzinfo=ROME), tick=False):
        html = _render(course, enrollment.user)

    assert "Compila il questionario" in html
    assert "fino a lunedì 25 marzo 2030, ore 13.00" in html
