"""The main pages run a fixed number of queries however many participants a course has."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.enrollment.helpers import open_course
from tests.factories import EnrollmentFactory, SecretariatFactory

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/courses/{slug}/",
    "/my/enrollments/",
    "/segreteria/",
    "/segreteria/courses/{slug}/enrollments/",
    "/segreteria/courses/{slug}/enrollments/export.xlsx",
    "/segreteria/courses/{slug}/attendance/",
    "/segreteria/sessions/{session}/register/",
    "/segreteria/courses/{slug}/questionnaire/",
    "/segreteria/courses/{slug}/certificates/",
]


def _counts(client, course, participants: int) -> dict[str, int]:
    existing = course.enrollments.count()
    EnrollmentFactory.create_batch(participants - existing, course=course)
    counts = {}
    for page in PAGES:
        url = page.format(slug=course.slug, session=course.sessions.first().pk)
        client.get(url)  # first visits create defaults (e.g. the questionnaire): not counted
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200, url
        counts[page] = len(queries)
    return counts


def test_queries_do_not_grow_with_participants(client):
    course = open_course(capacity=100)
    client.force_login(SecretariatFactory())
    few = _counts(client, course, 3)
    many = _counts(client, course, 30)
    assert many == few
