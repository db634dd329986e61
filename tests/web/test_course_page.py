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
    reads = {
        # The visitor's enrolment row, whatever its columns: by course and user.
        "enrollment": sum(
            1
            for text in sql
            if text.startswith("SELECT")
            and 'FROM "enrollment_enrollment"' in text
            and re.search(rf'"enrollment_enrollment"\."user_id" = {user.pk}\b', text)
        ),
        "profile": sum(
            1
            for text in sql
            if 'FROM "accounts_profile"' in text
            and re.search(rf'"accounts_profile"\."user_id" = {user.pk}\b', text)
        ),
        "completion": sum(
            1
            for text in sql
            if 'FROM "questionnaire_completion"' in text
            and re.search(rf'"enrollment_id" = {enrollment.pk}\b', text)
        ),
        "certificate": sum(
            1
            for text in sql
            if 'FROM "certificates_certificate"' in text
            and re.search(rf'"enrollment_id" = {enrollment.pk}\b', text)
        ),
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
