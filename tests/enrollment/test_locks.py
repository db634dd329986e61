"""Row locks in enrolment lock only the rows meant (PostgreSQL)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment.models import Enrollment
from enrollment.services import (
    approve_enrollments,
    cancel_enrollment,
    confirm_from_waitlist,
    enroll_participant,
    move_to_waitlist,
    reject_enrollments,
)
from tests.enrollment.helpers import open_course, people

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _locking_queries(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if " FOR " in q["sql"]]


def _assert_only_meant_rows_locked(sqls: list[str]) -> None:
    assert sqls
    for sql in sqls:
        if 'FROM "courses_course"' in sql.split(" WHERE ")[0]:
            # the course itself: NO KEY UPDATE, so inserts referencing it are not blocked
            assert sql.endswith("FOR NO KEY UPDATE"), sql
            continue
        # an enrolment lock: only the enrolment rows, never a joined course, user or profile
        assert re.search(r'FOR UPDATE OF "enrollment_enrollment"$', sql), sql
        assert '"courses_course"' not in sql, sql


def test_enrolment_services_lock_only_the_rows_meant():
    course = open_course(capacity=1, requires_approval=True)
    users = people(4)
    with CaptureQueriesContext(connection) as queries:
        first, second, third, fourth = [enroll_participant(user=u, course=course) for u in users]
        cancel_enrollment(enrollment=fourth)
        enroll_participant(user=users[3], course=course)  # comes back: locks the old row
        approve_enrollments(course=course, enrollment_ids=[first.pk])
        move_to_waitlist(course=course, enrollment_ids=[first.pk])
        reject_enrollments(course=course, enrollment_ids=[second.pk])
        confirm_from_waitlist(course=course, enrollment_ids=[third.pk])
    _assert_only_meant_rows_locked(_locking_queries(queries))


def test_default_ordering_of_enrolments_does_not_join_the_course():
    # A default ordering on the course would join it in every unordered query, including
    # `.first()` under select_for_update: the course row would then be locked FOR UPDATE.
    sql = str(Enrollment.objects.select_for_update().filter(course_id=1).order_by().query)
    assert "JOIN" not in str(Enrollment.objects.all().query)
    assert "JOIN" not in sql
