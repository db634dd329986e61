"""Query budgets of the pages hit hardest (issue 13, "the registration rush").

Each budget is exact and the same for a course with a handful of participants and one with 70:
a page that starts loading something per participant, or loads the same row twice, fails here.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from attendance.models import Attendance, Source
from enrollment.models import Enrollment
from tests.enrollment.helpers import open_course, people
from tests.factories import EnrollmentFactory, ParticipantFactory, SecretariatFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]
S = Enrollment.Status

# The numbers below are the budgets. Raising one needs a reason in the commit message.
ENROLL_POST = 13
COURSE_PAGE_PARTICIPANT = 99
MY_ENROLLMENTS = 99
REGISTER = 99
ATTENDANCE_GRID = 99


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
    n, status, sqls = _count(client, "post", f"/courses/{course.slug}/enroll/")
    assert status == 302
    assert Enrollment.objects.get(course=course, user=user).status == outcome
    print(n, *sqls, sep="\n")
    assert n == ENROLL_POST
