from __future__ import annotations

import datetime as dt

import pytest

from courses.services import CourseError, update_session_times
from courses.signals import session_times_changed
from tests.factories import SecretariatFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent():
    calls: list[dict] = []

    def listener(sender, **kwargs):
        calls.append(kwargs)

    session_times_changed.connect(listener, dispatch_uid="test-listener")
    yield calls
    session_times_changed.disconnect(dispatch_uid="test-listener")


def test_update_session_times_saves_and_sends_the_old_times_once(course, sent):
    session = course.sessions.order_by("date").first()
    by = SecretariatFactory()

    update_session_times(session=session, start=dt.time(9, 30), end=dt.time(12, 0), changed_by=by)

    session.refresh_from_db()
    assert (session.start, session.end) == (dt.time(9, 30), dt.time(12, 0))
    assert len(sent) == 1
    assert (sent[0]["old_start"], sent[0]["old_end"], sent[0]["changed_by"]) == (
        dt.time(9, 0),
        dt.time(13, 0),
        by,
    )
    assert sent[0]["session"].pk == session.pk
    assert sent[0]["session"].end == dt.time(12, 0)


def test_same_times_send_nothing(course, sent):
    session = course.sessions.first()
    update_session_times(session=session, start=session.start, end=session.end, changed_by=None)
    assert sent == []


@pytest.mark.parametrize(
    ("start", "end"), [(dt.time(13, 0), dt.time(9, 0)), (dt.time(9, 0), dt.time(9, 0))]
)
def test_end_not_after_start_is_refused(course, sent, start, end):
    session = course.sessions.first()
    with pytest.raises(CourseError, match="successivo a quello di inizio"):
        update_session_times(session=session, start=start, end=end, changed_by=None)
    session.refresh_from_db()
    assert (session.start, session.end) == (dt.time(9, 0), dt.time(13, 0))
    assert sent == []


def test_a_start_taken_by_another_session_of_the_same_day_is_refused(course, sent):
    from tests.factories import SessionFactory

    first = course.sessions.order_by("date").first()
    afternoon = SessionFactory(
        course=course, date=first.date, start=dt.time(14, 0), end=dt.time(17, 0)
    )
    with pytest.raises(CourseError):
        update_session_times(
            session=afternoon, start=dt.time(9, 0), end=dt.time(12, 0), changed_by=None
        )
    afternoon.refresh_from_db()
    assert afternoon.start == dt.time(14, 0)
    assert sent == []
