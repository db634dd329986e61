from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from attendance.models import Attendance, AttendanceChange, Source
from attendance.services import (
    AttendanceError,
    RegisterRow,
    record_attendance,
    record_session_register,
)
from courses.models import Session
from courses.services import update_session_times
from enrollment.services import cancel_enrollment
from tests.factories import CourseFactory, EnrollmentFactory, SecretariatFactory

pytestmark = pytest.mark.slow


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_each_audit_the_value_they_replaced():
    # given a recorded row
    enrollment = EnrollmentFactory()
    session = enrollment.course.sessions.first()
    by = SecretariatFactory()
    record_attendance(
        enrollment=enrollment, session=session, minutes=100, recorded_by=by, source=Source.ADMIN
    )
    first_holds_lock = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with transaction.atomic():
                record_attendance(
                    enrollment=enrollment,
                    session=session,
                    minutes=150,
                    recorded_by=by,
                    source=Source.REGISTER,
                )
                first_holds_lock.set()
                time.sleep(0.5)  # the second edit starts and must wait for this commit
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    def second() -> None:
        try:
            first_holds_lock.wait(5)
            record_attendance(
                enrollment=enrollment,
                session=session,
                minutes=200,
                recorded_by=by,
                source=Source.IMPORT,
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    # when two edits overlap
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)

    # then the audit trail is a chain with no lost link
    assert errors == []
    chain = list(AttendanceChange.objects.order_by("pk").values_list("old_minutes", "new_minutes"))
    assert chain == [(None, 100), (100, 150), (150, 200)]
    assert Attendance.objects.get().minutes == 200


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _wait_until_started(pids: dict[str, int], name: str, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while name not in pids and time.monotonic() < deadline:
        time.sleep(0.01)
    return name in pids


def _wait_until_blocked(pid: int, timeout: float = 5.0) -> bool:
    """Poll pg_locks (live, unlike pg_stat_activity) until the backend waits for a lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", [pid])
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.02)
    return False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_register_save_and_cancellation_of_the_same_course_both_finish():
    # given a session's register with a recorded row for a participant whom the secretariat is
    # about to cancel, and another participant
    course = CourseFactory()
    session = course.sessions.order_by("date", "start").first()
    cancelled = EnrollmentFactory(course=course)
    other = EnrollmentFactory(course=course)
    by = SecretariatFactory()
    record_attendance(
        enrollment=cancelled, session=session, minutes=60, recorded_by=by, source=Source.ADMIN
    )
    rows = [
        RegisterRow(cancelled.pk, minutes=session.minutes),
        RegisterRow(other.pk, minutes=session.minutes),
    ]
    pids: dict[str, int] = {}
    errors: list[BaseException] = []
    done: list[str] = []

    def run(name: str, work: Callable[[], object]) -> None:
        try:
            pids[name] = _backend_pid()
            work()
            done.append(name)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    cancel_thread = threading.Thread(
        target=run,
        args=("cancel", lambda: cancel_enrollment(enrollment=cancelled, by_secretariat=True)),
    )
    register_thread = threading.Thread(
        target=run,
        args=(
            "register",
            lambda: record_session_register(session=session, rows=rows, recorded_by=by),
        ),
    )
    # when the cancellation takes the course's lock just before the register saves: a third
    # transaction holds the course row for a moment, so that the order is the same on every run
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM courses_course WHERE id = %s FOR SHARE", [course.pk])
        cancel_thread.start()
        assert _wait_until_started(pids, "cancel")
        assert _wait_until_blocked(pids["cancel"])
        register_thread.start()
        assert _wait_until_started(pids, "register")
        # The register must not need the course row; if it does, it queues behind the cancellation.
        _wait_until_blocked(pids["register"], timeout=1.0)
    cancel_thread.join(15)
    register_thread.join(15)

    # then both finish, with no deadlock
    assert errors == []
    assert sorted(done) == ["cancel", "register"]
    cancelled.refresh_from_db()
    assert cancelled.status == cancelled.Status.CANCELLED
    assert Attendance.objects.get(enrollment=other, session=session).minutes == session.minutes


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_register_locks_only_session_and_attendance_rows_without_joins():
    course = CourseFactory()
    session = course.sessions.order_by("date", "start").first()
    enrollments = [EnrollmentFactory(course=course) for _ in range(2)]
    by = SecretariatFactory()
    record_attendance(
        enrollment=enrollments[0], session=session, minutes=10, recorded_by=by, source=Source.ADMIN
    )
    rows = [RegisterRow(e.pk, minutes=session.minutes) for e in enrollments]

    with CaptureQueriesContext(connection) as captured:
        record_session_register(session=session, rows=rows, recorded_by=by)

    locking = [q["sql"] for q in captured.captured_queries if " FOR " in q["sql"]]
    assert locking
    for sql in locking:
        assert "JOIN" not in sql
        assert "FOR NO KEY UPDATE OF" in sql
    assert {sql.split(" FROM ", 1)[1].split()[0] for sql in locking} == {
        '"courses_session"',
        '"attendance_attendance"',
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_register_saved_while_the_session_is_shortened_is_checked_against_the_new_times():
    # given a 4-hour session and a register about to record a full presence (240 minutes)
    course = CourseFactory()
    session = course.sessions.order_by("date", "start").first()
    enrollment = EnrollmentFactory(course=course)
    by = SecretariatFactory()
    # The register page loaded the session before its times changed.
    loaded_by_register = Session.objects.get(pk=session.pk)
    pids: dict[str, int] = {}
    errors: list[BaseException] = []

    def save_register() -> None:
        try:
            pids["register"] = _backend_pid()
            record_session_register(
                session=loaded_by_register,
                rows=[RegisterRow(enrollment.pk, minutes=240)],
                recorded_by=by,
            )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=save_register)
    # when the secretariat shortens the session to 3 hours while the register is being saved
    with transaction.atomic():
        update_session_times(
            session=session, start=dt.time(9, 0), end=dt.time(12, 0), changed_by=by
        )
        thread.start()
        assert _wait_until_started(pids, "register")
        _wait_until_blocked(pids["register"], timeout=1.0)
    thread.join(15)

    # then the register waited for the new times and refused 240 minutes instead of storing them
    assert len(errors) == 1 and isinstance(errors[0], AttendanceError)
    assert "tra 0 e 180" in errors[0].row_errors[enrollment.pk]
    assert not Attendance.objects.exists()
