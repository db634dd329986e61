"""Pages tell the truth about a course's state: open, full, enrolment closed, ended."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core.management import call_command

from courses.models import Course
from enrollment.selectors import CourseState, get_availability, get_course_state
from enrollment.services import enroll_participant
from tests.enrollment.helpers import open_course, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    call_command("seed_demo", stdout=io.StringIO())


def _card(html: str, code: str) -> str:
    """The catalogue card of one course."""
    start = html.index(f"{code}</p>")
    return html[start : html.index("</article>", start)]


def test_catalogue_shows_a_held_course_as_ended_and_apart(client, seeded):
    html = client.get("/").content.decode()
    held = _card(html, "C5092Z/1")
    assert "Corso concluso" in held
    assert "posti disponibili" not in held
    # upcoming courses first, soonest first; the past ones in their own section after them
    past_heading = html.index("Corsi conclusi")
    assert html.index("LAB-WC/1") < html.index("C5092Z/2") < past_heading
    assert html.index("C5092Z/1") > past_heading
    assert "20 posti disponibili" in _card(html, "C5092Z/2")


def test_course_page_of_a_held_course_says_it_ended(client, seeded):
    course = Course.objects.get(code="C5092Z/1")
    html = client.get(course.get_absolute_url()).content.decode()
    assert "Corso concluso" in html
    assert "posti disponibili" not in html
    assert "Iscriviti" not in html


def test_after_the_deadline_pages_say_enrolment_is_closed(client):
    course = open_course(capacity=10)
    after_deadline = course.enrollment_closes_at + dt.timedelta(minutes=1)
    with time_machine.travel(after_deadline, tick=False):
        catalogue = client.get("/").content.decode()
        page = client.get(course.get_absolute_url()).content.decode()
    assert "Iscrizioni chiuse" in _card(catalogue, course.code)
    assert "posti disponibili" not in _card(catalogue, course.code)
    assert "Iscrizioni chiuse" in page
    assert "10 posti disponibili" not in page


def test_course_state_boundaries():
    course = open_course(capacity=1)
    sessions = list(course.sessions.order_by("date", "start"))
    availability = get_availability(course)
    closes = course.enrollment_closes_at
    second = dt.timedelta(seconds=1)
    assert get_course_state(course, availability, closes - second) is CourseState.OPEN
    assert get_course_state(course, availability, closes) is CourseState.CLOSED
    ends = sessions[-1].ends_at()
    assert get_course_state(course, availability, ends - second) is CourseState.CLOSED
    assert get_course_state(course, availability, ends) is CourseState.ENDED
    enroll_participant(user=people(1)[0], course=course)
    full = get_availability(course)
    assert get_course_state(course, full, closes - second) is CourseState.FULL


def test_a_full_open_course_says_so(client):
    course = open_course(capacity=1)
    enroll_participant(user=people(1)[0], course=course)
    assert "Posti esauriti" in _card(client.get("/").content.decode(), course.code)


def test_cancel_button_shows_only_while_cancelling_is_allowed(client):
    course = open_course(capacity=2)
    (enrollment,) = [enroll_participant(user=u, course=course) for u in people(1)]
    client.force_login(enrollment.user)
    cancel_url = f"/my/enrollments/{enrollment.pk}/cancel/"
    assert cancel_url in client.get("/my/enrollments/").content.decode()
    first = course.sessions.order_by("date", "start").first()
    with time_machine.travel(first.starts_at() + dt.timedelta(minutes=1), tick=False):
        client.force_login(enrollment.user)  # the earlier session has expired by then
        html = client.get("/my/enrollments/").content.decode()
    assert course.code in html
    assert cancel_url not in html
