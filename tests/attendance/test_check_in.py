"""Entry and exit at the venue: scans, their refusals, the minutes they make and their audit."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from attendance.models import Attendance, AttendanceChange, Scan, Source
from attendance.personal_data import export_personal_data
from attendance.scans import (
    AUTO,
    close_open_entries,
    confirm_automatic_exit,
    record_manual_scan,
    record_qr_scan,
)
from attendance.selectors import count_inside, list_exits_to_confirm, search_session_participants
from attendance.services import AttendanceError, record_attendance
from enrollment.models import Enrollment
from enrollment.services import cancel_enrollment
from enrollment.tokens import make_check_in_token
from tests.factories import CourseFactory, EnrollmentFactory, SecretariatFactory, SessionFactory

pytestmark = pytest.mark.django_db

ROME = ZoneInfo(settings.TIME_ZONE)
DAY = dt.date(2031, 3, 12)


def at(hour: int, minute: int = 0, second: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=ROME)


@pytest.fixture
def session(db):
    course = CourseFactory(sessions=0, enrollment_deadline=DAY - dt.timedelta(days=10))
    return SessionFactory(course=course, date=DAY, start=dt.time(9), end=dt.time(13))


@pytest.fixture
def person(session):
    return EnrollmentFactory(course=session.course)


@pytest.fixture
def staff(db):
    return SecretariatFactory()


@pytest.fixture(autouse=True)
def _evening():
    # The server's clock: the evening of the session's day, so the day's scans are in the past.
    with time_machine.travel(at(20), tick=False):
        yield


def scan(session, person, kind, when, staff, *, nonce=None, token=None):
    return record_qr_scan(
        session=session,
        token=token if token is not None else make_check_in_token(person),
        kind=kind,
        nonce=nonce or uuid.uuid4(),
        scanned_at=when,
        scanned_by=staff,
    )


def row(person, session) -> Attendance:
    return Attendance.objects.get(enrollment=person, session=session)


def test_entry_then_exit_records_the_minutes_with_an_audit_row(session, person, staff):
    entry = scan(session, person, "entry", at(9, 5), staff)
    assert entry.name == person.user.get_full_name() and not entry.repeated
    # An entry alone counts nothing yet.
    assert not Attendance.objects.exists()
    scan(session, person, "exit", at(12, 35, 40), staff)

    attendance = row(person, session)
    assert (attendance.minutes, attendance.entry, attendance.exit) == (
        210,
        dt.time(9, 5),
        dt.time(12, 35),
    )
    assert attendance.source == Source.QR and attendance.recorded_by == staff
    change = AttendanceChange.objects.get(attendance=attendance)
    assert change.source == Source.QR and change.changed_by == staff
    assert change.new_minutes == 210 and change.source_detail == "09:05–12:35"


def test_early_arrival_and_late_exit_count_only_the_session(session, person, staff):
    scan(session, person, "entry", at(8, 30), staff)
    scan(session, person, "exit", at(13, 40), staff)
    attendance = row(person, session)
    assert attendance.minutes == 240  # clamped to 9:00–13:00
    assert (attendance.entry, attendance.exit) == (dt.time(8, 30), dt.time(13, 40))


def test_two_intervals_add_up_and_keep_only_the_minutes(session, person, staff):
    scan(session, person, "entry", at(8, 50), staff)
    scan(session, person, "exit", at(10, 0), staff)
    scan(session, person, "entry", at(11, 0), staff)
    scan(session, person, "exit", at(13, 30), staff)
    attendance = row(person, session)
    assert attendance.minutes == 60 + 120
    assert (attendance.entry, attendance.exit) == (None, None)
    assert AttendanceChange.objects.filter(attendance=attendance).count() == 2
    assert attendance.changes.first().source_detail == "08:50–10:00, 11:00–13:30"


def test_the_same_nonce_again_returns_the_first_result_and_writes_nothing(session, person, staff):
    nonce = uuid.uuid4()
    scan(session, person, "entry", at(9), staff)
    first = scan(session, person, "exit", at(12), staff, nonce=nonce)
    again = scan(session, person, "exit", at(12, 30), staff, nonce=nonce)
    assert again.repeated and again.scan.pk == first.scan.pk
    assert Scan.objects.count() == 2
    assert row(person, session).minutes == 180
    assert AttendanceChange.objects.count() == 1


def test_a_scan_sent_hours_later_counts_at_its_original_time(session, person, staff):
    # Scanned at 9:00 and 12:00 with the network down; both arrive in the evening.
    scan(session, person, "entry", at(9), staff)
    result = scan(session, person, "exit", at(12), staff)
    assert result.scan.received_at == at(20)
    assert result.scan.scanned_at == at(12)
    assert row(person, session).minutes == 180


def test_the_automatic_mode_alternates_entry_and_exit(session, person, staff):
    assert scan(session, person, AUTO, at(9), staff).scan.kind == Scan.Kind.ENTRY
    assert scan(session, person, AUTO, at(11), staff).scan.kind == Scan.Kind.EXIT
    assert scan(session, person, AUTO, at(11, 30), staff).scan.kind == Scan.Kind.ENTRY
    assert count_inside(session) == 1


def test_a_repeat_within_a_minute_is_ignored(session, person, staff):
    scan(session, person, AUTO, at(9), staff)
    with pytest.raises(AttendanceError, match="scansione ripetuta"):
        scan(session, person, AUTO, at(9, 0, 59), staff)
    assert scan(session, person, AUTO, at(9, 1), staff).scan.kind == Scan.Kind.EXIT


def _refusal(session, person, staff, case):
    other_course = SessionFactory(date=DAY, start=dt.time(9), end=dt.time(13))
    if case == "forged":
        return scan(session, person, "entry", at(9), staff, token="x" + make_check_in_token(person))
    if case == "other course":
        other = EnrollmentFactory(course=other_course.course)
        return scan(session, other, "entry", at(9), staff)
    if case == "cancelled":
        cancel_enrollment(enrollment=person, by_secretariat=True, actor=staff)
        return scan(session, person, "entry", at(9), staff)
    if case == "not confirmed":
        Enrollment.objects.filter(pk=person.pk).update(status=Enrollment.Status.REQUESTED)
        return scan(session, person, "entry", at(9), staff)
    if case == "already inside":
        scan(session, person, "entry", at(9), staff)
        return scan(session, person, "entry", at(10), staff)
    if case == "exit without entry":
        return scan(session, person, "exit", at(12), staff)
    if case == "wrong day":
        return scan(session, person, "entry", at(9, day=DAY - dt.timedelta(days=1)), staff)
    if case == "future":
        return scan(session, person, "entry", at(20, 3), staff)
    if case == "after the end":
        return scan(session, person, "entry", at(13), staff)
    if case == "bad kind":
        return scan(session, person, "sideways", at(9), staff)
    raise AssertionError(case)


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("forged", "Il codice QR non è valido"),
        ("other course", "è iscritto a un altro corso"),
        ("cancelled", "è stata annullata"),
        ("not confirmed", "non è confermata"),
        ("already inside", "è già in aula \\(entrata alle 09:00\\)"),
        ("exit without entry", "non risulta in aula"),
        ("wrong day", "La giornata scelta è del 12/03/2031, non del giorno della scansione"),
        ("future", "nel futuro"),
        ("after the end", "La giornata è terminata alle 13:00"),
        ("bad kind", "Scegli se registrare"),
    ],
)
def test_each_refusal_says_why_and_writes_nothing(session, person, staff, case, message):
    with pytest.raises(AttendanceError, match=message):
        _refusal(session, person, staff, case)
    # Only the entry that "already inside" needs was written before the refusal.
    assert Scan.objects.count() == (1 if case == "already inside" else 0)
    assert not Attendance.objects.exists()


def test_the_clock_tolerance_boundary(session, person, staff):
    # Two minutes ahead of the server is a device clock slightly fast; a second more is refused.
    with time_machine.travel(at(10), tick=False):
        scan(session, person, "entry", at(10, 2), staff)
        with pytest.raises(AttendanceError, match="nel futuro"):
            scan(session, person, "exit", at(10, 2, 1), staff)


def test_the_code_of_a_cancelled_enrolment_stops_at_once_even_if_inside(session, person, staff):
    scan(session, person, "entry", at(9), staff)
    cancel_enrollment(enrollment=person, by_secretariat=True, actor=staff)
    with pytest.raises(AttendanceError, match="annullata"):
        scan(session, person, "exit", at(12), staff)


def test_an_open_entry_is_closed_at_the_sessions_end_and_flagged(session, person, staff):
    scan(session, person, "entry", at(9, 30), staff)
    # One second before the end: still open.
    assert close_open_entries(now=at(12, 59, 59)) == 0
    assert count_inside(session) == 1
    # At the end: closed at the end, flagged, minutes written by the system.
    assert close_open_entries(now=at(13)) == 1
    exit = Scan.objects.get(kind=Scan.Kind.EXIT)
    assert exit.automatic and exit.needs_confirmation and exit.scanned_at == at(13)
    assert exit.scanned_by is None
    attendance = row(person, session)
    assert (attendance.minutes, attendance.entry, attendance.exit) == (
        210,
        dt.time(9, 30),
        dt.time(13),
    )
    change = attendance.changes.get()
    assert change.changed_by is None and "uscita automatica" in change.source_detail
    assert count_inside(session) == 0
    assert list(list_exits_to_confirm(session)) == [exit]
    # Running again (the beat task every 15 minutes) closes nothing twice.
    assert close_open_entries(now=at(13, 15)) == 0
    assert Scan.objects.count() == 2


def test_the_secretariat_confirms_an_automatic_exit(session, person, staff):
    scan(session, person, "entry", at(9, 30), staff)
    close_open_entries(now=at(13))
    exit = Scan.objects.get(automatic=True)
    confirm_automatic_exit(session=session, scan_id=exit.pk, confirmed_by=staff)
    exit.refresh_from_db()
    assert exit.confirmed_by == staff and not exit.needs_confirmation
    assert list(list_exits_to_confirm(session)) == []
    entry = Scan.objects.get(kind=Scan.Kind.ENTRY)
    with pytest.raises(AttendanceError, match="non trovata"):
        confirm_automatic_exit(session=session, scan_id=entry.pk, confirmed_by=staff)


def test_a_real_exit_uploaded_after_the_automatic_one_settles_it(session, person, staff):
    # The exit was scanned offline at 11:00 and reached the server only after the beat task had
    # closed the entry at 13:00: the real exit counts and nothing is left to confirm.
    scan(session, person, "entry", at(9), staff)
    close_open_entries(now=at(13))
    assert len(list_exits_to_confirm(session)) == 1
    scan(session, person, "exit", at(11), staff)
    assert row(person, session).minutes == 120
    assert list(list_exits_to_confirm(session)) == []


def test_the_beat_task_is_scheduled():
    assert settings.CELERY_BEAT_SCHEDULE["close-open-check-ins"]["task"] == (
        "attendance.tasks.close_open_entries_task"
    )


def test_manual_check_in_is_the_same_record_with_source_manual(session, person, staff):
    record_manual_scan(
        session=session,
        enrollment_id=person.pk,
        kind="entry",
        nonce=uuid.uuid4(),
        scanned_by=staff,
        scanned_at=at(9),
    )
    record_manual_scan(
        session=session,
        enrollment_id=person.pk,
        kind="exit",
        nonce=uuid.uuid4(),
        scanned_by=staff,
        scanned_at=at(11),
    )
    attendance = row(person, session)
    assert attendance.minutes == 120 and attendance.source == Source.MANUAL
    assert attendance.changes.get().source == Source.MANUAL
    assert set(Scan.objects.values_list("source", flat=True)) == {Source.MANUAL}


def test_manual_check_in_of_someone_of_another_course_is_refused(session, staff):
    stranger = EnrollmentFactory()
    with pytest.raises(AttendanceError, match="altro corso"):
        record_manual_scan(
            session=session,
            enrollment_id=stranger.pk,
            kind="entry",
            nonce=uuid.uuid4(),
            scanned_by=staff,
            scanned_at=at(9),
        )


def test_scans_overwrite_a_register_value_with_the_scanned_minutes(session, person, staff):
    record_attendance(
        enrollment=person, session=session, minutes=240, recorded_by=staff, source=Source.REGISTER
    )
    scan(session, person, "entry", at(10), staff)
    scan(session, person, "exit", at(12), staff)
    assert row(person, session).minutes == 120
    assert [c.source for c in row(person, session).changes.order_by("pk")] == [
        Source.REGISTER,
        Source.QR,
    ]


def test_search_finds_confirmed_participants_by_surname_or_codice_fiscale(session, person):
    EnrollmentFactory(course=session.course, status=Enrollment.Status.WAITLISTED)
    surname = person.user.last_name
    assert search_session_participants(session, surname[2:].lower()) == [person]
    assert search_session_participants(session, person.user.profile.codice_fiscale.lower()) == [
        person
    ]
    assert search_session_participants(session, "x") == []  # too short to search


def test_a_persons_data_export_lists_their_scans_only(session, person, staff):
    other = EnrollmentFactory(course=session.course)
    scan(session, person, "entry", at(9), staff)
    scan(session, other, "entry", at(9), staff)
    exported = export_personal_data(person.user)["check_ins"]
    assert exported == [
        {
            "course": session.course.code,
            "date": "2031-03-12",
            "kind": "entry",
            "at": at(9).astimezone(dt.UTC).isoformat(),
            "source": "qr",
            "automatic": False,
        }
    ]
