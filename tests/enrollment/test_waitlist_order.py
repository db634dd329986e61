"""The waiting list is served in order of arrival, by one predicate and one "fill" service."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from courses.models import CourseQuota
from enrollment.models import Enrollment, Notification
from enrollment.rules import seat_is_free
from enrollment.selectors import get_enrollment_panel
from enrollment.services import (
    EnrollmentError,
    cancel_enrollment,
    confirm_from_waitlist,
    enroll_participant,
    give_back_seat,
    move_to_waitlist,
    reject_enrollments,
)
from enrollment.tokens import enrollment_from_give_back_token, make_give_back_token
from tests.enrollment.helpers import open_course, people
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def _enrol(course, n, **profile):
    return [enroll_participant(user=u, course=course) for u in people(n, **profile)]


def _refresh(*enrollments):
    for e in enrollments:
        e.refresh_from_db()


def _overlapping_quotas(capacity: int, **quotas: int):
    """Quotas that add up to more than the capacity, as LAB-WC/1 (40 + 30 on 70) could be."""
    return open_course(capacity=capacity, quotas=quotas)


# --- The predicate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("taken_total", "taken_in_quota", "quota_key", "free"),
    [
        (49, 39, "terzo_settore", True),  # one seat left overall and in the quota
        (50, 20, "comune", False),  # the course is full even though the quota is not
        (30, 30, "comune", False),  # the quota is full even though the course is not
        (49, 0, "", True),  # no quota for this person: only the capacity counts
        (50, 0, "", False),
        (10, 99, "gone", True),  # a quota deleted since: limits nothing, raises nothing
    ],
)
def test_seat_is_free_checks_the_capacity_and_the_quota(
    taken_total, taken_in_quota, quota_key, free
):
    quotas = {"terzo_settore": 40, "comune": 30}
    assert (
        seat_is_free(
            capacity=50,
            quotas=quotas,
            taken_total=taken_total,
            taken_in_quota=taken_in_quota,
            quota_key=quota_key,
        )
        is free
    )


def test_course_page_offers_the_waiting_list_when_the_course_is_full_but_the_quota_is_not():
    course = _overlapping_quotas(capacity=2, terzo_settore=2, comune=2)
    _enrol(course, 2, organisation_type="terzo_settore")
    (visitor,) = people(1, organisation_type="comune")
    panel = get_enrollment_panel(course, visitor)
    assert panel.can_enroll
    assert panel.joins_waitlist
    # and the service agrees with the page
    assert enroll_participant(user=visitor, course=course).status == S.WAITLISTED


def test_course_page_offers_a_seat_when_both_capacity_and_quota_have_room():
    course = _overlapping_quotas(capacity=3, terzo_settore=2, comune=2)
    _enrol(course, 2, organisation_type="terzo_settore")
    (visitor,) = people(1, organisation_type="comune")
    assert not get_enrollment_panel(course, visitor).joins_waitlist
    assert not get_enrollment_panel(course, AnonymousUser()).joins_waitlist


# --- Nobody jumps the queue -------------------------------------------------------------------


def test_a_seat_freed_in_another_quota_goes_to_the_first_waiting_not_to_a_newcomer():
    # given a full course (capacity 2 < quotas 2 + 2) and a Comune employee waiting
    course = _overlapping_quotas(capacity=2, terzo_settore=2, comune=2)
    t1, _t2 = _enrol(course, 2, organisation_type="terzo_settore")
    (waiting,) = _enrol(course, 1, organisation_type="comune")
    assert waiting.status == S.WAITLISTED
    # when a Terzo settore seat is freed
    cancel_enrollment(enrollment=t1)
    # then the person waiting gets it, and a newcomer of the cancelled quota waits
    waiting.refresh_from_db()
    assert waiting.status == S.CONFIRMED
    (newcomer,) = _enrol(course, 1, organisation_type="terzo_settore")
    assert newcomer.status == S.WAITLISTED


def test_a_newcomer_waits_behind_someone_eligible_already_waiting_for_a_free_seat():
    # A seat is free while someone eligible waits (e.g. the seat was freed by a raw change):
    # the newcomer must not take it ahead of them.
    course = open_course(capacity=1)
    first, waiting = _enrol(course, 2)
    Enrollment.objects.filter(pk=first.pk).update(status=S.CANCELLED)
    (newcomer,) = _enrol(course, 1)
    waiting.refresh_from_db()
    assert waiting.status == S.CONFIRMED
    assert newcomer.status == S.WAITLISTED
    assert Notification.objects.filter(enrollment=waiting, kind="promoted").count() == 1
    assert Notification.objects.filter(enrollment=newcomer, kind="waitlisted").count() == 1


def test_a_newcomer_gets_a_free_seat_nobody_waiting_can_take():
    # The only person waiting is no longer eligible: the newcomer may have the seat.
    course = open_course(capacity=1, eligible_professions=["assistente_sociale"])
    first, waiting = _enrol(course, 2)
    waiting.user.profile.profession = "psicologo"
    waiting.user.profile.save()
    Enrollment.objects.filter(pk=first.pk).update(status=S.CANCELLED)
    (newcomer,) = _enrol(course, 1)
    assert newcomer.status == S.CONFIRMED
    assert Notification.objects.filter(enrollment=newcomer, kind="confirmed").count() == 1
    waiting.refresh_from_db()
    assert waiting.status == S.WAITLISTED


def test_rejecting_a_request_promotes_in_waiting_order():
    course = open_course(capacity=1, requires_approval=True)
    request, w1, w2 = _enrol(course, 3)
    assert request.status == S.REQUESTED
    reject_enrollments(course=course, enrollment_ids=[request.pk])
    _refresh(w1, w2)
    assert (w1.status, w2.status) == (S.REQUESTED, S.WAITLISTED)


def test_moving_someone_back_to_the_waiting_list_gives_the_seat_to_the_first_waiting():
    course = open_course(capacity=1)
    seated, w1, w2 = _enrol(course, 3)
    move_to_waitlist(course=course, enrollment_ids=[seated.pk])
    _refresh(seated, w1, w2)
    assert w1.status == S.CONFIRMED
    # the person moved goes to the end of the line, not straight back to the seat
    assert (seated.status, w2.status) == (S.WAITLISTED, S.WAITLISTED)
    assert seated.waitlisted_at > w2.waitlisted_at


def test_secretariat_confirm_from_waiting_list_follows_the_waiting_order():
    # `late` asked first but was put back on the list later; `early` has waited longer.
    course = open_course(capacity=1)
    now = timezone.now()
    late = EnrollmentFactory(
        course=course,
        status=S.WAITLISTED,
        waitlisted_at=now - dt.timedelta(hours=1),
    )
    early = EnrollmentFactory(
        course=course,
        status=S.WAITLISTED,
        waitlisted_at=now - dt.timedelta(hours=2),
    )
    Enrollment.objects.filter(pk=late.pk).update(created_at=now - dt.timedelta(days=3))
    Enrollment.objects.filter(pk=early.pk).update(created_at=now - dt.timedelta(days=2))
    moved, left = confirm_from_waitlist(course=course, enrollment_ids=[late.pk, early.pk])
    assert (moved, left) == (1, 1)
    _refresh(late, early)
    assert (early.status, late.status) == (S.CONFIRMED, S.WAITLISTED)


def test_a_cancelled_person_who_comes_back_waits_behind_those_already_waiting():
    course = open_course(capacity=1)
    seated, w1, w2 = _enrol(course, 3)
    cancel_enrollment(enrollment=w1)
    again = enroll_participant(user=w1.user, course=course)
    assert again.waitlisted_at > w2.waitlisted_at
    cancel_enrollment(enrollment=seated)
    _refresh(w2, again)
    assert (w2.status, again.status) == (S.CONFIRMED, S.WAITLISTED)


# --- Not into a course that has started -------------------------------------------------------


def test_no_promotion_into_a_course_that_has_started(
    mailoutbox, django_capture_on_commit_callbacks
):
    course = open_course(capacity=1)
    seated, waiting = _enrol(course, 2)
    after_start = course.sessions.order_by("date").first().starts_at() + dt.timedelta(hours=1)
    with (
        time_machine.travel(after_start, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        cancel_enrollment(enrollment=seated, by_secretariat=True)
    waiting.refresh_from_db()
    assert waiting.status == S.WAITLISTED
    assert not Notification.objects.filter(enrollment=waiting, kind="promoted").exists()
    assert not [m for m in mailoutbox if "liberato" in m.subject]


def test_enrolment_is_refused_once_the_course_has_started():
    course = open_course(capacity=5)
    course.enrollment_deadline = timezone.localdate() + dt.timedelta(days=60)  # after the start
    course.save(update_fields=["enrollment_deadline"])
    (user,) = people(1)
    after_start = course.sessions.order_by("date").first().starts_at() + dt.timedelta(hours=1)
    with (
        time_machine.travel(after_start, tick=False),
        pytest.raises(EnrollmentError, match="già iniziato"),
    ):
        enroll_participant(user=user, course=course)
    assert not Enrollment.objects.filter(user=user).exists()


# --- A quota deleted under active enrolments --------------------------------------------------


def test_cancel_confirm_and_reject_survive_a_quota_deleted_under_them():
    course = _overlapping_quotas(capacity=2, terzo_settore=1, comune=1)
    seated, waiting, rejected = _enrol(course, 3, organisation_type="comune")
    _enrol(course, 1, organisation_type="terzo_settore")
    CourseQuota.objects.filter(course=course, organisation_type="comune").delete()
    # no StopIteration: a seat of a vanished quota counts against the capacity only
    cancel_enrollment(enrollment=seated)
    # (the course is now reserved to Terzo settore, so nobody from Comune is promoted)
    waiting.refresh_from_db()
    assert waiting.status == S.WAITLISTED
    assert confirm_from_waitlist(course=course, enrollment_ids=[waiting.pk]) == (1, 0)
    assert reject_enrollments(course=course, enrollment_ids=[rejected.pk]) == 1


# --- The give-back link -----------------------------------------------------------------------


def test_give_back_link_stops_working_once_the_person_enrols_again(client):
    course = open_course(capacity=1)
    seated, promoted = _enrol(course, 2)
    cancel_enrollment(enrollment=seated)
    promoted.refresh_from_db()
    old_token = make_give_back_token(promoted)  # the link in the promotion e-mail
    cancel_enrollment(enrollment=promoted)
    again = enroll_participant(user=promoted.user, course=course)
    assert again.status == S.CONFIRMED
    with pytest.raises(EnrollmentError, match="non vale più"):
        give_back_seat(token=old_token)
    response = client.get(f"/enrollments/give-back/{old_token}/")
    assert response.status_code == 404
    assert "non vale più" in response.content.decode()
    assert client.post(f"/enrollments/give-back/{old_token}/").status_code == 404
    again.refresh_from_db()
    assert again.status == S.CONFIRMED
    # the link for the current enrolment works
    assert enrollment_from_give_back_token(make_give_back_token(again)).pk == again.pk
