from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from attendance.forms import RegisterRowForm
from attendance.models import Attendance, AttendanceChange, Source
from attendance.services import (
    AttendanceError,
    RegisterRow,
    record_attendance,
    record_session_register,
    validate_attendance_values,
)
from enrollment.models import Enrollment
from tests.attendance.factories import AttendanceFactory
from tests.factories import CourseFactory, EnrollmentFactory, SessionFactory


def record(enrollment, session, by, **values):
    return record_attendance(
        enrollment=enrollment, session=session, recorded_by=by, source=Source.REGISTER, **values
    )


# --- minutes and times -------------------------------------------------------------------------


def test_minutes_up_to_the_session_length_are_recorded(enrollment, sessions, secretariat):
    row = record(enrollment, sessions[0], secretariat, minutes=240)
    assert row.minutes == 240
    assert row.recorded_by == secretariat
    assert row.source == Source.REGISTER


def test_minutes_above_the_session_length_are_refused(enrollment, sessions, secretariat):
    with pytest.raises(AttendanceError, match="tra 0 e 240"):
        record(enrollment, sessions[0], secretariat, minutes=241)
    assert not Attendance.objects.exists()


def test_negative_minutes_are_refused(enrollment, sessions, secretariat):
    with pytest.raises(AttendanceError):
        record(enrollment, sessions[0], secretariat, minutes=-1)


def test_entry_before_start_and_exit_after_end_are_clamped(enrollment, sessions, secretariat):
    # The session runs 9:00–13:00.
    row = record(enrollment, sessions[0], secretariat, entry=dt.time(8, 30), exit=dt.time(13, 45))
    assert row.minutes == 240
    # The times as signed are kept; only the minutes are clamped.
    assert (row.entry, row.exit) == (dt.time(8, 30), dt.time(13, 45))


def test_late_entry_and_early_exit_count_only_the_time_present(enrollment, sessions, secretariat):
    row = record(enrollment, sessions[0], secretariat, entry=dt.time(9, 20), exit=dt.time(12, 5))
    assert row.minutes == 165


def test_early_entry_is_clamped_to_the_start(enrollment, sessions, secretariat):
    row = record(enrollment, sessions[0], secretariat, entry=dt.time(7, 0), exit=dt.time(10, 0))
    assert row.minutes == 60


def test_late_exit_is_clamped_to_the_end(enrollment, sessions, secretariat):
    row = record(enrollment, sessions[0], secretariat, entry=dt.time(12, 0), exit=dt.time(18, 0))
    assert row.minutes == 60


def test_times_wholly_outside_the_session_give_zero_minutes(enrollment, sessions, secretariat):
    row = record(enrollment, sessions[0], secretariat, entry=dt.time(14, 0), exit=dt.time(15, 0))
    assert row.minutes == 0


def test_exit_must_follow_entry(enrollment, sessions, secretariat):
    with pytest.raises(AttendanceError, match="successivo"):
        record(enrollment, sessions[0], secretariat, entry=dt.time(11), exit=dt.time(10))
    with pytest.raises(AttendanceError, match="successivo"):
        record(enrollment, sessions[0], secretariat, entry=dt.time(11), exit=dt.time(11))


def test_one_time_alone_is_refused(enrollment, sessions, secretariat):
    with pytest.raises(AttendanceError, match="sia l'orario"):
        record(enrollment, sessions[0], secretariat, entry=dt.time(9))


def test_times_and_minutes_together_are_refused(enrollment, sessions, secretariat):
    with pytest.raises(AttendanceError, match="non entrambi"):
        record(
            enrollment, sessions[0], secretariat, minutes=100, entry=dt.time(9), exit=dt.time(10)
        )


def test_nothing_to_record_is_refused(enrollment, sessions, secretariat):
    with pytest.raises(AttendanceError):
        record(enrollment, sessions[0], secretariat)


# --- who can be recorded -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [
        Enrollment.Status.REQUESTED,
        Enrollment.Status.WAITLISTED,
        Enrollment.Status.REJECTED,
        Enrollment.Status.CANCELLED,
    ],
)
def test_only_confirmed_enrolments_are_recorded(course, sessions, secretariat, status):
    enrollment = EnrollmentFactory(course=course, status=status)
    with pytest.raises(AttendanceError, match="confermate"):
        record(enrollment, sessions[0], secretariat, minutes=60)
    assert not Attendance.objects.exists()


def test_a_cancellation_after_loading_is_seen(enrollment, sessions, secretariat):
    Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.CANCELLED)
    # `enrollment` still says "confirmed" in memory; the service reads the database.
    with pytest.raises(AttendanceError, match="confermate"):
        record(enrollment, sessions[0], secretariat, minutes=60)


def test_a_session_of_another_course_is_refused(enrollment, secretariat):
    other_session = SessionFactory()
    with pytest.raises(AttendanceError, match="non appartiene"):
        record(enrollment, other_session, secretariat, minutes=60)


# --- audit -------------------------------------------------------------------------------------


def test_creation_and_change_are_audited(enrollment, sessions, secretariat):
    record(enrollment, sessions[0], secretariat, minutes=200)
    record(enrollment, sessions[0], secretariat, entry=dt.time(9, 30), exit=dt.time(13))

    first, second = AttendanceChange.objects.order_by("pk")
    assert (first.old_minutes, first.new_minutes) == (None, 200)
    assert first.is_creation
    assert (second.old_minutes, second.new_minutes) == (200, 210)
    assert (second.new_entry, second.new_exit) == (dt.time(9, 30), dt.time(13))
    assert second.changed_by == secretariat
    assert second.source == Source.REGISTER
    assert Attendance.objects.get().minutes == 210


def test_an_unchanged_value_writes_no_audit_row(enrollment, sessions, secretariat):
    assert record(enrollment, sessions[0], secretariat, minutes=200) is not None
    assert record(enrollment, sessions[0], secretariat, minutes=200) is None
    assert AttendanceChange.objects.count() == 1


def test_the_database_refuses_negative_minutes(db):
    row = AttendanceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.filter(pk=row.pk).update(minutes=-5)


def test_the_database_refuses_a_second_row_for_the_same_session(db):
    row = AttendanceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.create(
            enrollment=row.enrollment,
            session=row.session,
            minutes=10,
            source=Source.ADMIN,
            recorded_at=row.recorded_at,
        )


def test_the_database_refuses_exit_before_entry(db):
    row = AttendanceFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Attendance.objects.filter(pk=row.pk).update(entry=dt.time(12), exit=dt.time(10))


# --- a whole register --------------------------------------------------------------------------


def test_a_register_saves_every_row_in_one_go(course, sessions, secretariat):
    people = [EnrollmentFactory(course=course) for _ in range(3)]
    result = record_session_register(
        session=sessions[0],
        rows=[
            RegisterRow(people[0].pk, minutes=240),
            RegisterRow(people[1].pk, minutes=0),
            RegisterRow(people[2].pk, entry=dt.time(10), exit=dt.time(12)),
        ],
        recorded_by=secretariat,
    )
    assert (result.changed, result.unchanged) == (3, 0)
    minutes = dict(Attendance.objects.values_list("enrollment_id", "minutes"))
    assert minutes == {people[0].pk: 240, people[1].pk: 0, people[2].pk: 120}
    assert AttendanceChange.objects.filter(source=Source.REGISTER).count() == 3


def test_a_register_with_a_bad_row_writes_nothing_and_names_the_row(course, sessions, secretariat):
    good, bad = EnrollmentFactory(course=course), EnrollmentFactory(course=course)
    cancelled = EnrollmentFactory(course=course, status=Enrollment.Status.CANCELLED)
    with pytest.raises(AttendanceError) as caught:
        record_session_register(
            session=sessions[0],
            rows=[
                RegisterRow(good.pk, minutes=240),
                RegisterRow(bad.pk, minutes=241),
                RegisterRow(cancelled.pk, minutes=10),
            ],
            recorded_by=secretariat,
        )
    assert set(caught.value.row_errors) == {bad.pk, cancelled.pk}
    assert not Attendance.objects.exists()
    assert not AttendanceChange.objects.exists()


def test_a_register_refuses_an_enrolment_of_another_course(sessions, secretariat):
    stranger = EnrollmentFactory(course=CourseFactory())
    with pytest.raises(AttendanceError) as caught:
        record_session_register(
            session=sessions[0],
            rows=[RegisterRow(stranger.pk, minutes=10)],
            recorded_by=secretariat,
        )
    assert stranger.pk in caught.value.row_errors


def test_a_session_deleted_meanwhile_is_refused_with_a_message(course, secretariat):
    from courses.models import Session
    from tests.factories import SessionFactory

    session = SessionFactory(course=course)
    enrollment = EnrollmentFactory(course=course)
    Session.objects.filter(pk=session.pk).delete()

    with pytest.raises(AttendanceError, match="La giornata non esiste più"):
        record_attendance(
            enrollment=enrollment,
            session=session,
            minutes=10,
            recorded_by=secretariat,
            source=Source.REGISTER,
        )
    with pytest.raises(AttendanceError, match="La giornata non esiste più"):
        record_session_register(
            session=session, rows=[RegisterRow(enrollment.pk, minutes=10)], recorded_by=secretariat
        )


@pytest.mark.parametrize(
    ("data", "values"),
    [
        ({"mode": "times", "entry": "11:00", "exit": "10:00"}, {"entry": "11:00", "exit": "10:00"}),
        ({"mode": "times", "entry": "09:00"}, {"entry": "09:00"}),
        ({"mode": "times", "entry": "09:00", "exit": "10:00", "minutes": "30"}, None),
        ({"mode": "minutes", "minutes": "9999"}, {"minutes": 9999}),
    ],
)
def test_register_row_form_refuses_what_the_service_refuses_with_its_message(
    sessions, data, values
):
    session = sessions[0]
    form = RegisterRowForm(data=data, session=session, enrollment_id=1)
    kwargs = {
        key: dt.time.fromisoformat(value) if key in ("entry", "exit") else value
        for key, value in (values or {"entry": "09:00", "exit": "10:00", "minutes": 30}).items()
    }
    with pytest.raises(AttendanceError) as refused:
        validate_attendance_values(session=session, **kwargs)

    assert not form.is_valid()
    assert form.non_field_errors() == [refused.value.message]
