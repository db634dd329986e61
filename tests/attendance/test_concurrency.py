from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from attendance.models import Attendance, AttendanceChange, Source
from attendance.services import record_attendance
from tests.factories import EnrollmentFactory, SecretariatFactory


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
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
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
        except BaseException as exc:  # noqa: BLE001
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
