"""A session's times changed after attendance was recorded: every row re-clamped and audited."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from attendance.models import Attendance, AttendanceChange, Source
from attendance.services import AttendanceValues, reclamp_values, record_attendance
from courses.services import CourseError, update_session_times
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

T = dt.time


def _record(enrollment, session, by, **values):
    record_attendance(
        enrollment=enrollment, session=session, recorded_by=by, source=Source.REGISTER, **values
    )


def _row(enrollment, session) -> tuple:
    row = Attendance.objects.get(enrollment=enrollment, session=session)
    return row.minutes, row.entry, row.exit


def test_shortening_a_session_clamps_recorded_minutes_and_times_and_audits_them(
    course, sessions, secretariat
):
    # given a 9:00–13:00 session with a full presence, a partial one, times beyond both ends
    # and times that fall only in the part about to be cut
    session = sessions[0]
    full, partial, early_late, late = (EnrollmentFactory(course=course) for _ in range(4))
    _record(full, session, secretariat, minutes=240)
    _record(partial, session, secretariat, minutes=100)
    _record(early_late, session, secretariat, entry=T(8, 50), exit=T(13, 10))
    _record(late, session, secretariat, entry=T(12, 45), exit=T(13, 30))

    # when it is shortened by 30 minutes
    update_session_times(session=session, start=T(9, 0), end=T(12, 30), changed_by=secretariat)

    # then no row counts more than the new 210 minutes, and each change is audited
    assert _row(full, session) == (210, None, None)
    assert _row(partial, session) == (100, None, None)
    assert _row(early_late, session) == (210, T(9, 0), T(12, 30))
    assert _row(late, session) == (0, None, None)
    changes = AttendanceChange.objects.filter(source=Source.SESSION_CHANGE)
    assert {
        (c.attendance.enrollment_id, c.old_minutes, c.new_minutes, c.old_exit, c.new_exit)
        for c in changes
    } == {
        (full.pk, 240, 210, None, None),
        (early_late.pk, 240, 210, T(13, 10), T(12, 30)),
        (late.pk, 15, 0, T(13, 30), None),
    }
    assert {(c.changed_by, c.source_detail) for c in changes} == {
        (secretariat, "09:00–13:00 → 09:00–12:30")
    }
    assert Attendance.objects.get(enrollment=full, session=session).source == Source.SESSION_CHANGE
    assert Source.SESSION_CHANGE.label == "Modifica dell'orario della giornata"


def test_a_later_start_clamps_entry_times(course, sessions, secretariat):
    session = sessions[0]
    early, on_time = EnrollmentFactory(course=course), EnrollmentFactory(course=course)
    _record(early, session, secretariat, entry=T(8, 50), exit=T(11, 0))
    _record(on_time, session, secretariat, entry=T(10, 0), exit=T(13, 0))

    update_session_times(session=session, start=T(9, 30), end=T(13, 0), changed_by=secretariat)

    assert _row(early, session) == (90, T(9, 30), T(11, 0))
    assert _row(on_time, session) == (180, T(10, 0), T(13, 0))
    assert AttendanceChange.objects.filter(source=Source.SESSION_CHANGE).count() == 1


def test_lengthening_a_session_adds_no_minutes(course, sessions, secretariat):
    # given a full presence, times beyond the old end and times inside the session
    session = sessions[0]
    full, stayed_late, inside = (EnrollmentFactory(course=course) for _ in range(3))
    _record(full, session, secretariat, minutes=240)
    _record(stayed_late, session, secretariat, entry=T(8, 30), exit=T(13, 30))
    _record(inside, session, secretariat, entry=T(10, 0), exit=T(12, 0))

    # when the session is lengthened at both ends
    update_session_times(session=session, start=T(8, 0), end=T(14, 0), changed_by=secretariat)

    # then minutes stay what was recorded: only what counted before still counts
    assert _row(full, session) == (240, None, None)
    assert _row(stayed_late, session) == (240, T(9, 0), T(13, 0))
    assert _row(inside, session) == (120, T(10, 0), T(12, 0))
    # the times of a row that reached past the old session are clamped, so that saving the
    # register again does not count the 30 minutes before 9:00 or after 13:00
    assert [
        (c.old_minutes, c.new_minutes)
        for c in AttendanceChange.objects.filter(source=Source.SESSION_CHANGE)
    ] == [(240, 240)]


def test_unchanged_times_write_nothing(course, sessions, secretariat, enrollment):
    session = sessions[0]
    _record(enrollment, session, secretariat, minutes=240)

    update_session_times(session=session, start=T(9, 0), end=T(13, 0), changed_by=secretariat)

    assert not AttendanceChange.objects.filter(source=Source.SESSION_CHANGE).exists()


def test_rows_of_cancelled_enrollments_are_clamped_too(course, sessions, secretariat, enrollment):
    session = sessions[0]
    _record(enrollment, session, secretariat, minutes=240)
    enrollment.status = enrollment.Status.CANCELLED
    enrollment.save(update_fields=["status"])

    update_session_times(session=session, start=T(9, 0), end=T(11, 0), changed_by=secretariat)

    assert _row(enrollment, session) == (120, None, None)


def test_end_before_start_is_refused_and_nothing_changes(course, sessions, secretariat, enrollment):
    session = sessions[0]
    _record(enrollment, session, secretariat, minutes=240)

    with pytest.raises(CourseError, match="successivo a quello di inizio"):
        update_session_times(session=session, start=T(13, 0), end=T(9, 0), changed_by=secretariat)

    session.refresh_from_db()
    assert (session.start, session.end) == (T(9, 0), T(13, 0))
    assert _row(enrollment, session) == (240, None, None)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # minutes alone: capped at the new length, never raised
        (AttendanceValues(240, None, None), AttendanceValues(180, None, None)),
        (AttendanceValues(100, None, None), AttendanceValues(100, None, None)),
        # times: what counted before (9–13) and is still inside the new times (10–13)
        (AttendanceValues(240, T(8, 0), T(14, 0)), AttendanceValues(180, T(10, 0), T(13, 0))),
        (AttendanceValues(60, T(9, 0), T(10, 0)), AttendanceValues(0, None, None)),
        (AttendanceValues(0, T(13, 15), T(13, 45)), AttendanceValues(0, None, None)),
        (AttendanceValues(90, T(10, 30), T(12, 0)), AttendanceValues(90, T(10, 30), T(12, 0))),
    ],
)
def test_reclamp_values_never_counts_more_than_before(values, expected):
    assert (
        reclamp_values(values=values, old_start=T(9), old_end=T(13), new_start=T(10), new_end=T(13))
        == expected
    )


# --- admin -------------------------------------------------------------------------------------


@pytest.fixture
def admin_user(client):
    from accounts.models import User

    user = User.objects.create_superuser("admin@example.org", "pw-Admin-42")
    client.force_login(user)
    return user


def _form_data(response) -> dict:
    """The change page's forms as the browser would submit them unchanged."""
    data: dict = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for bound in form:
            value = bound.value()
            if value is None:
                continue
            if isinstance(value, list | tuple):
                data[bound.html_name] = [str(v) for v in value]
            elif isinstance(value, bool):
                if value:
                    data[bound.html_name] = "on"
            elif isinstance(value, dt.time):
                data[bound.html_name] = value.strftime("%H:%M")
            else:
                data[bound.html_name] = str(value)
    return data


def test_session_admin_change_of_times_re_clamps_attendance(
    client, admin_user, course, sessions, secretariat, enrollment
):
    session = sessions[0]
    _record(enrollment, session, secretariat, minutes=240)
    url = reverse("admin:courses_session_change", args=[session.pk])
    data = _form_data(client.get(url))
    data.update({"end": "12:30", "title": "Mattina"})

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    session.refresh_from_db()
    assert (session.end, session.title) == (T(12, 30), "Mattina")
    assert _row(enrollment, session) == (210, None, None)
    change = AttendanceChange.objects.get(source=Source.SESSION_CHANGE)
    assert (change.old_minutes, change.new_minutes, change.changed_by) == (240, 210, admin_user)


def test_course_admin_session_inline_change_of_times_re_clamps_attendance(
    client, admin_user, course, sessions, secretariat, enrollment
):
    _record(enrollment, sessions[1], secretariat, minutes=240)
    url = reverse("admin:courses_course_change", args=[course.pk])
    data = _form_data(client.get(url))
    index = next(i for i in range(len(sessions)) if data[f"sessions-{i}-id"] == str(sessions[1].pk))
    data[f"sessions-{index}-start"] = "10:00"

    response = client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:3000]
    sessions[1].refresh_from_db()
    assert (sessions[1].start, sessions[1].end) == (T(10, 0), T(13, 0))
    assert _row(enrollment, sessions[1]) == (180, None, None)
    change = AttendanceChange.objects.get(source=Source.SESSION_CHANGE)
    assert (change.old_minutes, change.new_minutes, change.changed_by) == (240, 180, admin_user)
