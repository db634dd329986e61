"""The course page's static part (texts, programme, teachers, summary) is rendered once per
course version and language and reused for every signed-in visitor."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from courses.services import update_session_times
from tests.enrollment.helpers import open_course
from tests.factories import EnrollmentFactory, ScheduleItemFactory, TeacherFactory

pytestmark = pytest.mark.django_db
STATIC = {"web/_course_content.html", "web/_course_summary.html"}


@pytest.fixture
def course():
    course = open_course(capacity=100, title="Welfare di comunità")
    item = ScheduleItemFactory(session=course.sessions.first(), title="Lavoro di rete")
    item.teachers.add(TeacherFactory(name="Prof.ssa Ada Lovelace"))
    return course


def _visit(client, course, user):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(course.get_absolute_url())
    assert response.status_code == 200
    rendered = {t.name for t in response.templates} & STATIC
    programme_reads = [
        q["sql"]
        for q in queries.captured_queries
        if 'FROM "courses_scheduleitem"' in q["sql"] or 'FROM "courses_teacher"' in q["sql"]
    ]
    return response.content.decode(), rendered, programme_reads


def test_static_part_is_rendered_once_for_every_signed_in_visitor(client, course):
    first, second = (EnrollmentFactory(course=course).user for _ in range(2))

    html, rendered, reads = _visit(client, course, first)
    assert rendered == STATIC and reads
    assert "Lavoro di rete" in html and "Prof.ssa Ada Lovelace" in html

    # another person: the same programme, neither rendered nor read again
    html, rendered, reads = _visit(client, course, second)
    assert rendered == set() and reads == []
    assert "Lavoro di rete" in html and "Prof.ssa Ada Lovelace" in html
    assert "Welfare di comunità" in html


def test_a_new_session_time_shows_at_once(
    client, course, secretariat, django_capture_on_commit_callbacks
):
    user = EnrollmentFactory(course=course).user
    html, _rendered, _reads = _visit(client, course, user)
    assert "09.00–13.00" in html and "10.30–13.00" not in html

    with django_capture_on_commit_callbacks(execute=True):
        update_session_times(
            session=course.sessions.first(),
            start=dt.time(10, 30),
            end=dt.time(13),
            changed_by=secretariat,
        )

    html, rendered, _reads = _visit(client, course, user)
    assert rendered == STATIC
    assert "10.30–13.00" in html


def test_static_part_is_kept_per_language(client, course):
    user = EnrollmentFactory(course=course).user
    html, _rendered, _reads = _visit(client, course, user)
    assert "Programma" in html
    client.get("/lang/en/")
    html, rendered, _reads = _visit(client, course, user)
    assert rendered == STATIC
    assert "Programme" in html and "Programma del" not in html


def test_a_teacher_renamed_in_the_admin_shows_at_once(
    client, course, admin_user, django_capture_on_commit_callbacks
):
    user = EnrollmentFactory(course=course).user
    html, _rendered, _reads = _visit(client, course, user)
    teacher = course.sessions.first().items.first().teachers.get()

    admin = type(client)()
    admin.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            f"/admin/courses/teacher/{teacher.pk}/change/",
            {"name": "Prof. Alan Turing", "title": "", "affiliation": ""},
        )
    assert response.status_code == 302, response.content.decode()[:2000]

    html, rendered, _reads = _visit(client, course, user)
    assert "Prof. Alan Turing" in html and "Ada Lovelace" not in html


def test_an_unpublished_course_is_gone_at_once(
    client, course, admin_user, django_capture_on_commit_callbacks
):
    from core.pagecache import invalidate_course_content

    user = EnrollmentFactory(course=course).user
    _visit(client, course, user)
    with django_capture_on_commit_callbacks(execute=True):
        type(course).objects.filter(pk=course.pk).update(is_published=False)
        invalidate_course_content()  # what the course admin does on save
    assert client.get(course.get_absolute_url()).status_code == 404
