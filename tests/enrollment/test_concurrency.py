"""Many enrolments at once on PostgreSQL, each thread with its own connection."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager

import pytest
from django.db import connection

from courses.models import Course
from enrollment import services
from enrollment.models import Enrollment
from enrollment.services import EnrollmentError, enroll_participant
from tests.enrollment.helpers import open_course, people, quota_course

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
S = Enrollment.Status


def _race(course: Course, users: list) -> list:
    """Start every enrolment at the same moment; return statuses or errors."""
    barrier = threading.Barrier(len(users))
    results: list = [None] * len(users)

    def work(i: int) -> None:
        try:
            barrier.wait()
            results[i] = enroll_participant(user=users[i], course=course).status
        except EnrollmentError as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(users))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


@contextmanager
def slow_seat_count(monkeypatch):
    """Widen the window between counting seats and inserting, to make any race visible."""
    original = services._seats_taken

    def slow(*args, **kwargs):
        counts = original(*args, **kwargs)
        time.sleep(0.05)
        return counts

    monkeypatch.setattr(services, "_seats_taken", slow)
    yield


def test_simultaneous_enrolments_never_exceed_capacity(monkeypatch):
    course = open_course(capacity=20)
    users = people(40)
    with slow_seat_count(monkeypatch):
        results = _race(course, users)
    assert results.count(S.CONFIRMED) == 20
    assert results.count(S.WAITLISTED) == 20
    assert Enrollment.objects.filter(course=course, status=S.CONFIRMED).count() == 20


def test_control_without_the_lock_the_race_overbooks(monkeypatch):
    """Proves the test above can fail: with the row lock removed, seats are oversold."""
    course = open_course(capacity=20)
    users = people(40)
    monkeypatch.setattr(services, "_lock_course", lambda pk: Course.objects.get(pk=pk))
    with slow_seat_count(monkeypatch):
        results = _race(course, users)
    assert results.count(S.CONFIRMED) > 20


def test_simultaneous_enrolments_never_exceed_a_quota(monkeypatch):
    course = quota_course(terzo_settore=4, comune=3)
    comune = people(10, organisation_type="comune")
    third = people(10, organisation_type="terzo_settore")
    with slow_seat_count(monkeypatch):
        _race(course, comune + third)
    confirmed = Enrollment.objects.filter(course=course, status=S.CONFIRMED)
    assert confirmed.filter(quota_key="comune").count() == 3
    assert confirmed.filter(quota_key="terzo_settore").count() == 4


def test_double_click_from_one_user_creates_one_enrolment():
    course = open_course()
    (user,) = people(1)
    results = _race(course, [user] * 5)
    assert sum(1 for r in results if r == S.CONFIRMED) == 1
    assert all(isinstance(r, EnrollmentError) for r in results if r != S.CONFIRMED)
    assert Enrollment.objects.filter(course=course, user=user).count() == 1


def test_simultaneous_cancellations_promote_each_waiting_person_once():
    course = open_course(capacity=3)
    users = people(6)
    enrolled = [enroll_participant(user=u, course=course) for u in users]
    barrier = threading.Barrier(3)

    def cancel(e: Enrollment) -> None:
        try:
            barrier.wait()
            services.cancel_enrollment(enrollment=e)
        finally:
            connection.close()

    threads = [threading.Thread(target=cancel, args=(e,)) for e in enrolled[:3]]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = list(
        Enrollment.objects.filter(course=course).order_by("id").values_list("status", flat=True)
    )
    assert statuses == [S.CANCELLED] * 3 + [S.CONFIRMED] * 3


def test_seats_freed_during_a_burst_go_to_those_already_waiting():
    # given a full course whose quotas add up to more than its capacity, with three Comune
    # employees waiting while three Terzo settore employees hold every seat
    course = quota_course(terzo_settore=3, comune=3)
    Course.objects.filter(pk=course.pk).update(capacity=3)
    seated = [
        enroll_participant(user=u, course=course)
        for u in people(3, organisation_type="terzo_settore")
    ]
    waiting = [
        enroll_participant(user=u, course=course) for u in people(3, organisation_type="comune")
    ]
    newcomers = people(3, organisation_type="terzo_settore")
    assert {e.status for e in waiting} == {S.WAITLISTED}
    # when the seated cancel while Terzo settore newcomers enrol, all at once
    barrier = threading.Barrier(6)

    def work(job) -> None:
        try:
            barrier.wait()
            job()
        finally:
            connection.close()

    jobs = [lambda e=e: services.cancel_enrollment(enrollment=e) for e in seated] + [
        lambda u=u: enroll_participant(user=u, course=course) for u in newcomers
    ]
    threads = [threading.Thread(target=work, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then the freed seats went to the people who were waiting, in any interleaving
    confirmed = Enrollment.objects.filter(course=course, status=S.CONFIRMED)
    assert sorted(confirmed.values_list("pk", flat=True)) == sorted(e.pk for e in waiting)
    assert Enrollment.objects.filter(user__in=newcomers, status=S.WAITLISTED).count() == 3
