"""A session's mode (in presenza / online / mista) and its meeting link."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from courses.models import Session
from tests.factories import CourseFactory, SessionFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_a_session_is_in_person_by_default():
    session = SessionFactory()

    assert session.mode == Session.Mode.IN_PRESENZA
    assert not session.is_online


def test_an_in_person_session_cannot_have_a_meeting_link():
    session = SessionFactory.build(course=CourseFactory(sessions=0), meeting_url="https://x.org/m")

    with pytest.raises(ValidationError) as caught:
        session.full_clean()
    assert "solo per le giornate online o miste" in str(caught.value)
    with pytest.raises(IntegrityError):
        session.save()


def test_an_online_or_mixed_session_keeps_its_link():
    for mode in (Session.Mode.ONLINE, Session.Mode.MISTA):
        session = SessionFactory(mode=mode, meeting_url="https://x.org/m")
        session.full_clean()
        assert session.is_online


def test_the_course_admin_edits_mode_and_link_in_the_session_inline(client):
    course = CourseFactory()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get(reverse("admin:courses_course_change", args=[course.pk])).content.decode()

    assert 'name="sessions-0-mode"' in page
    assert 'name="sessions-0-meeting_url"' in page
