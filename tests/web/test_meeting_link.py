"""Online sessions: the meeting link is for confirmed participants only, never in cached parts."""

from __future__ import annotations

import pytest
from django.test import Client

from courses.models import Session
from enrollment.models import Enrollment
from tests.enrollment.helpers import open_course
from tests.factories import EnrollmentFactory, ParticipantFactory

pytestmark = pytest.mark.django_db

LINK = "https://teams.example.org/l/meetup-join/corso-online-42"


def _page(user=None) -> str:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_meeting_link_is_shown_only_to_confirmed_participants():
    course = open_course(capacity=10)
    Session.objects.filter(pk=course.sessions.first().pk).update(
        mode=Session.Mode.ONLINE, meeting_url=LINK
    )
    confirmed = EnrollmentFactory(course=course).user
    requested = EnrollmentFactory(course=course, status=Enrollment.Status.REQUESTED).user
    url = f"/courses/{course.slug}/"

    # The confirmed participant first: whatever is cached after their visit is what others get.
    seen = _page(confirmed).get(url).content.decode()
    assert LINK in seen
    for visitor in (requested, ParticipantFactory(), None):
        page = _page(visitor).get(url).content.decode()
        assert LINK not in page
        # The programme itself says the session is online, to everyone.
        assert "Online</span>" in page


def test_an_online_session_without_a_link_yet_shows_no_link_box():
    course = open_course(capacity=10)
    course.sessions.update(mode=Session.Mode.MISTA)
    confirmed = EnrollmentFactory(course=course).user

    page = _page(confirmed).get(f"/courses/{course.slug}/").content.decode()

    assert "Mista (in presenza e online)</span>" in page
    assert 'id="meeting-links"' not in page
