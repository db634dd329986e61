"""The state rules shared by the services and the pages: one function each."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from courses.selectors import course_has_started
from enrollment.models import ACTIVE_STATUSES, SEAT_HOLDING_STATUSES, Enrollment
from enrollment.rules import cancellation_problem, reenrollment_problem
from enrollment.selectors import get_enrollment_panel, list_my_enrollment_rows
from enrollment.services import EnrollmentError, cancel_enrollment, enroll_participant
from tests.enrollment.helpers import open_course, people
from tests.factories import EnrollmentFactory, SessionFactory

Status = Enrollment.Status


def test_active_and_seat_holding_states_have_one_definition(db):
    for status in Status.values:
        enrollment = EnrollmentFactory(status=status)
        assert enrollment.is_active is (status in ACTIVE_STATUSES)
        assert enrollment.holds_seat is (status in SEAT_HOLDING_STATUSES)
        assert Enrollment.objects.active().filter(pk=enrollment.pk).exists() is enrollment.is_active
        assert (
            Enrollment.objects.holding_seats().filter(pk=enrollment.pk).exists()
            is enrollment.holds_seat
        )


@pytest.mark.parametrize(
    ("status", "started", "by_secretariat", "allowed"),
    [
        (Status.CONFIRMED, False, False, True),
        (Status.WAITLISTED, False, False, True),
        (Status.REQUESTED, False, False, True),
        (Status.CONFIRMED, True, False, False),
        (Status.CONFIRMED, True, True, True),
        (Status.CANCELLED, False, True, False),
        (Status.REJECTED, False, True, False),
    ],
)
def test_cancellation_rule(db, status, started, by_secretariat, allowed):
    enrollment = EnrollmentFactory.build(status=status)

    problem = cancellation_problem(
        enrollment, course_started=started, by_secretariat=by_secretariat
    )

    assert (problem is None) is allowed


def test_my_enrollments_offer_cancelling_exactly_when_the_service_allows_it(db):
    course = open_course()
    started = open_course()
    SessionFactory(course=started, date=timezone.localdate() - dt.timedelta(days=1))
    user = people(1)[0]
    mine = enroll_participant(user=user, course=course)
    EnrollmentFactory(user=user, course=started, status=Status.CONFIRMED)
    gone = enroll_participant(user=user, course=open_course())
    cancel_enrollment(enrollment=gone, actor=user)

    rows = {row.enrollment.pk: row.can_cancel for row in list_my_enrollment_rows(user.pk)}

    for enrollment in Enrollment.objects.filter(user=user):
        service_allows = (
            cancellation_problem(enrollment, course_started=course_has_started(enrollment.course))
            is None
        )
        assert rows[enrollment.pk] is service_allows
    assert rows[mine.pk] is True
    assert sum(rows.values()) == 1


def test_the_course_page_refuses_again_what_the_service_refuses(db):
    course = open_course()
    user = people(1)[0]
    enrollment = EnrollmentFactory(user=user, course=course, status=Status.REJECTED)

    panel = get_enrollment_panel(course, user)
    with pytest.raises(EnrollmentError) as refused:
        enroll_participant(user=user, course=course)

    assert panel.can_enroll is False
    assert panel.reason == refused.value.message == reenrollment_problem(enrollment)
