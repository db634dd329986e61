"""The course page loads the signed-in participant's rows once and composes every box from them."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.enrollment.helpers import open_course
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def _participant_queries(client, course, user) -> tuple[dict[str, int], int]:
    """How many times each of the participant's rows is read, and the page's query count."""
    client.force_login(user)
    url = f"/courses/{course.slug}/"
    client.get(url)  # first visits create defaults (e.g. the questionnaire): not counted
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    sql = [query["sql"] for query in queries.captured_queries]
    enrollment = user.enrollments.get(course=course)

    def reads_of(table: str, column: str, pk: int) -> int:
        # SELECTs from the table filtered on the participant's own key.
        pattern = re.compile(rf'"{table}"\."{column}" = {pk}\b')
        return sum(
            1
            for text in sql
            if text.startswith("SELECT") and f'FROM "{table}"' in text and pattern.search(text)
        )

    reads = {
        "enrollment": reads_of("enrollment_enrollment", "user_id", user.pk),
        "profile": reads_of("accounts_profile", "user_id", user.pk),
        "completion": reads_of("questionnaire_completion", "enrollment_id", enrollment.pk),
        "certificate": reads_of("certificates_certificate", "enrollment_id", enrollment.pk),
    }
    return reads, len(sql)


def test_signed_in_course_page_reads_each_participant_row_once(client):
    # given a confirmed participant: every box (enrolment, progress, questionnaire,
    # certificate) is shown
    course = open_course(capacity=100)
    participant = EnrollmentFactory(course=course).user

    # when the participant opens the course page
    reads, _count = _participant_queries(client, course, participant)

    # then each of their rows is read once, not once per box
    assert reads == {"enrollment": 1, "profile": 1, "completion": 1, "certificate": 1}


def test_signed_in_course_page_queries_do_not_grow_with_participants(client):
    course = open_course(capacity=100)
    participant = EnrollmentFactory(course=course).user
    _reads, few = _participant_queries(client, course, participant)

    EnrollmentFactory.create_batch(30, course=course)
    _reads, many = _participant_queries(client, course, participant)

    assert many == few
