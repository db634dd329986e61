"""The enrolment POST reads the course from the page cache, but decides on the locked row."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from courses.models import Course
from enrollment.models import Enrollment
from tests.enrollment.helpers import open_course, people
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cached(client):
    """An open course whose page (and so the cached course) a participant has just seen."""
    course = open_course(capacity=5)
    (user,) = people(1)
    client.force_login(user)
    assert client.get(course.get_absolute_url()).status_code == 200
    return course, user


def test_a_deadline_moved_without_the_admin_still_closes_enrolment(client, cached):
    course, user = cached
    # changed behind the cache's back (no version bump): the locked row decides
    Course.objects.filter(pk=course.pk).update(
        enrollment_deadline=timezone.localdate() - dt.timedelta(days=1)
    )
    response = client.post(f"/courses/{course.slug}/enroll/", follow=True)
    assert not Enrollment.objects.filter(course=course, user=user).exists()
    assert "Le iscrizioni si sono chiuse" in response.content.decode()


def test_a_restriction_added_without_the_admin_still_applies(client, cached):
    course, user = cached
    Course.objects.filter(pk=course.pk).update(eligible_professions=["educatore_professionale"])
    response = client.post(f"/courses/{course.slug}/enroll/", follow=True)
    assert not Enrollment.objects.filter(course=course, user=user).exists()
    assert "Il corso è riservato a" in response.content.decode()


def test_a_capacity_lowered_without_the_admin_is_the_one_counted(client, cached):
    course, user = cached
    EnrollmentFactory(course=course)
    Course.objects.filter(pk=course.pk).update(capacity=1)
    client.post(f"/courses/{course.slug}/enroll/")
    assert Enrollment.objects.get(course=course, user=user).status == Enrollment.Status.WAITLISTED
