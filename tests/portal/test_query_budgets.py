"""Query budgets of the pages hit hardest (issue 13, "the registration rush").

Each budget is exact and the same for a course with a handful of participants and one with 70:
a page that starts loading something per participant, or loads the same row twice, fails here.
"""

from __future__ import annotations

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attendance.models import Source
from attendance.services import record_attendance
from enrollment.models import Enrollment
from tests.enrollment.helpers import open_course, people
from tests.factories import EnrollmentFactory, SecretariatFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
S = Enrollment.Status

# The numbers below are the budgets. Raising one needs a reason in the commit message.
# A signed-in person's user row comes from the cache after their first request (accounts.backends).
ENROLL_POST = 9
COURSE_PAGE_PARTICIPANT = 7
MY_ENROLLMENTS = 3  # enrolments with courses; sessions; places in line
REGISTER = 5
ATTENDANCE_GRID = 6


def _count(client, method: str, url: str) -> tuple[int, int, list[str]]:
    from django.db import connection

    with CaptureQueriesContext(connection) as queries:
        response = getattr(client, method)(url)
    return len(queries), response.status_code, [q["sql"] for q in queries.captured_queries]


def _course_with(participants: int, **kwargs: object):
    course = open_course(**kwargs)
    EnrollmentFactory.create_batch(participants, course=course)
    return course


@pytest.mark.parametrize(
    ("capacity", "outcome"), [(200, S.CONFIRMED), (70, S.WAITLISTED)], ids=["seat", "full"]
)
@pytest.mark.parametrize("participants", [3, 70])
def test_enrolment_post_budget(client, capacity, outcome, participants):
    course = _course_with(participants if capacity > 70 else 70, capacity=capacity)
    if capacity == 70:
        # people already waiting in line: the newcomer joins the end of it
        for user in people(participants):
            EnrollmentFactory(
                course=course, user=user, status=S.WAITLISTED, waitlisted_at=timezone.now()
            )
    (user,) = people(1)
    client.force_login(user)
    client.get(course.get_absolute_url())  # people enrol from the course page
    n, status, sqls = _count(client, "post", f"/courses/{course.slug}/enroll/")
    assert status == 302
    assert Enrollment.objects.get(course=course, user=user).status == outcome
    assert n == ENROLL_POST


def _with_attendance(course, participants: int, secretariat) -> None:
    """`participants` confirmed people, each with attendance recorded at every session."""
    for enrollment in EnrollmentFactory.create_batch(participants, course=course):
        for session in course.sessions.all():
            record_attendance(
                enrollment=enrollment,
                session=session,
                minutes=session.minutes,
                recorded_by=secretariat,
                source=Source.REGISTER,
            )


def _page_counts(client, url_for, participants: int) -> int:
    secretariat = SecretariatFactory()
    course = open_course(capacity=100)
    _with_attendance(course, participants, secretariat)
    url = url_for(course)
    client.get(url)  # first visits create defaults (e.g. the questionnaire): not counted
    n, status, sqls = _count(client, "get", url)
    assert status == 200, url
    print(url, n, *sqls, sep="\n   ")
    return n


def _as_participant(client, course) -> str:
    enrollment = Enrollment.objects.filter(course=course).order_by("id").first()
    client.force_login(enrollment.user)
    return course.get_absolute_url()


def _as_secretariat(path: str):
    def url_for_secretariat(client):
        def url_for(course) -> str:
            client.force_login(SecretariatFactory())
            return path.format(slug=course.slug, session=course.sessions.order_by("pk")[0].pk)

        return url_for

    return url_for_secretariat


PAGES = {
    "course page (participant)": (
        lambda client: lambda course: _as_participant(client, course),
        COURSE_PAGE_PARTICIPANT,
    ),
    "register": (_as_secretariat("/segreteria/sessions/{session}/register/"), REGISTER),
    "attendance grid": (_as_secretariat("/segreteria/courses/{slug}/attendance/"), ATTENDANCE_GRID),
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("participants", [3, 70])
def test_page_budget(client, settings, page, participants):
    settings.STAFF_2FA_REQUIRED = False
    url_for, budget = PAGES[page]
    assert _page_counts(client, url_for(client), participants) == budget


@pytest.mark.parametrize("courses", [1, 5])
def test_my_enrolments_budget(client, courses):
    # given a person confirmed in some courses and waiting in line in as many others
    (user,) = people(1)
    for _ in range(courses):
        EnrollmentFactory(course=open_course(capacity=30), user=user)
        full = _course_with(2, capacity=2)
        EnrollmentFactory.create_batch(
            3, course=full, status=S.WAITLISTED, waitlisted_at=timezone.now()
        )
        EnrollmentFactory(course=full, user=user, status=S.WAITLISTED, waitlisted_at=timezone.now())
    client.force_login(user)
    client.get("/my/enrollments/")  # not their first request since signing in
    # when they open "Le mie iscrizioni"
    n, status, _sqls = _count(client, "get", "/my/enrollments/")
    # then the page says where they stand in each line, in a fixed number of queries
    assert status == 200
    assert _sqls and n == MY_ENROLLMENTS
    assert client.get("/my/enrollments/").content.decode().count("posizione 4 in lista") == courses


# Cache round-trips (Redis in production) of a signed-in course page once everything is warm:
# the session, the user, the content version, the course, its static parts together.
COURSE_PAGE_CACHE_CALLS = 5


def test_course_page_cache_round_trips(client, monkeypatch):
    from django.core.cache import caches

    course = _course_with(3, capacity=100)
    client.force_login(Enrollment.objects.filter(course=course).first().user)
    client.get(course.get_absolute_url())  # warm
    calls: list[str] = []
    inside: list[bool] = []  # the local-memory get_many calls get: count what the code asks
    backend = caches["default"]
    for name in ("get", "get_many", "set", "set_many", "add", "delete", "incr", "has_key"):
        real = getattr(backend, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            if not inside:
                calls.append(f"{_name} {args[0]}")
            inside.append(True)
            try:
                return _real(*args, **kwargs)
            finally:
                inside.pop()

        monkeypatch.setattr(backend, name, counted)
    assert client.get(course.get_absolute_url()).status_code == 200
    assert len(calls) == COURSE_PAGE_CACHE_CALLS, calls
