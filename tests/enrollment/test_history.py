"""Who did what to an enrolment: an append-only history, shown to the secretariat."""

from __future__ import annotations

import pytest
from django.urls import reverse

from enrollment.models import Enrollment, EnrollmentChange
from enrollment.services import (
    approve_enrollments,
    cancel_enrollment,
    cancel_enrollments,
    enroll_participant,
    give_back_seat,
    move_to_waitlist,
    reject_enrollments,
)
from enrollment.tokens import make_give_back_token
from tests.enrollment.helpers import open_course, people
from tests.factories import SecretariatFactory, UserFactory

pytestmark = pytest.mark.django_db
S = Enrollment.Status
A = EnrollmentChange.Action


def _history(enrollment):
    return list(
        EnrollmentChange.objects.filter(enrollment=enrollment)
        .order_by("changed_at", "id")
        .values_list("action", "old_status", "new_status", "actor_id", "reason")
    )


def test_every_transition_records_actor_time_and_reason():
    staff = SecretariatFactory()
    course = open_course(capacity=1, requires_approval=True)
    first, second = [enroll_participant(user=u, course=course) for u in people(2)]
    approve_enrollments(course=course, enrollment_ids=[first.pk], actor=staff, reason="ok")
    move_to_waitlist(course=course, enrollment_ids=[first.pk], actor=staff, reason="priorità")
    reject_enrollments(course=course, enrollment_ids=[second.pk], actor=staff, reason="requisiti")
    cancel_enrollment(enrollment=first, actor=first.user, reason="impegno")

    assert _history(first) == [
        (A.ENROLLED, "", S.REQUESTED, first.user_id, ""),
        (A.APPROVED, S.REQUESTED, S.CONFIRMED, staff.pk, "ok"),
        (A.WAITLISTED, S.CONFIRMED, S.WAITLISTED, staff.pk, "priorità"),
        # the seat freed by rejecting `second` comes back to `first`, by the system
        (A.PROMOTED, S.WAITLISTED, S.REQUESTED, None, "Posto liberato da un rifiuto."),
        (A.CANCELLED, S.REQUESTED, S.CANCELLED, first.user_id, "impegno"),
    ]
    # the seat freed by the move went to `second`, by the system, then rejected
    assert [row[:4] for row in _history(second)] == [
        (A.ENROLLED, "", S.WAITLISTED, second.user_id),
        (A.PROMOTED, S.WAITLISTED, S.REQUESTED, None),
        (A.REJECTED, S.REQUESTED, S.REJECTED, staff.pk),
    ]
    assert _history(second)[-1][4] == "requisiti"
    assert all(c.changed_at for c in EnrollmentChange.objects.all())


def test_secretariat_cancellation_and_give_back_record_who_did_it():
    staff = SecretariatFactory()
    course = open_course(capacity=1)
    a, b = [enroll_participant(user=u, course=course) for u in people(2)]
    cancel_enrollments(course=course, enrollment_ids=[a.pk], actor=staff, reason="doppione")
    b.refresh_from_db()
    give_back_seat(token=make_give_back_token(b))
    assert _history(a)[-1] == (A.CANCELLED, S.CONFIRMED, S.CANCELLED, staff.pk, "doppione")
    action, _old, new, actor, reason = _history(b)[-1]
    assert (action, new, actor) == (A.CANCELLED, S.CANCELLED, b.user_id)
    assert "link" in reason


def test_secretariat_sees_an_enrolments_history_from_the_enrolment_list(client):
    staff = SecretariatFactory(first_name="Susanna", last_name="Galli")
    course = open_course(capacity=1)
    (e,) = [enroll_participant(user=u, course=course) for u in people(1)]
    move_to_waitlist(course=course, enrollment_ids=[e.pk], actor=staff, reason="verifica ente")
    client.force_login(staff)
    listing = client.get(reverse("enrollment:manage", args=[course.slug])).content.decode()
    url = reverse("enrollment:history", args=[e.pk])
    assert url in listing
    html = client.get(url).content.decode()
    assert "Susanna Galli" in html
    assert "verifica ente" in html
    assert "Spostata in lista d&#x27;attesa" in html or "Spostata in lista d'attesa" in html


def test_bulk_action_reason_from_the_page_reaches_the_history(client):
    staff = SecretariatFactory()
    course = open_course(capacity=2)
    (e,) = [enroll_participant(user=u, course=course) for u in people(1)]
    client.force_login(staff)
    client.post(
        reverse("enrollment:manage", args=[course.slug]),
        {"action": "cancel", "ids": [e.pk], "reason": "richiesta via PEC"},
    )
    assert _history(e)[-1] == (A.CANCELLED, S.CONFIRMED, S.CANCELLED, staff.pk, "richiesta via PEC")


def test_history_page_is_for_the_secretariat_only(client):
    course = open_course()
    (e,) = [enroll_participant(user=u, course=course) for u in people(1)]
    url = reverse("enrollment:history", args=[e.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(e.user)
    assert client.get(url).status_code == 403


def test_admin_cannot_change_an_enrolment_around_the_services(client):
    course = open_course()
    (e,) = [enroll_participant(user=u, course=course) for u in people(1)]
    other = open_course()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    change_url = reverse("admin:enrollment_enrollment_change", args=[e.pk])
    page = client.get(change_url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(
        change_url,
        {"user": e.user_id, "course": other.pk, "status": S.CANCELLED, "quota_key": "comune"},
    )
    assert response.status_code == 403
    e.refresh_from_db()
    assert (e.course_id, e.status, e.quota_key) == (course.pk, S.CONFIRMED, "")
    assert client.get(reverse("admin:enrollment_enrollment_add")).status_code == 403
    history_url = reverse("admin:enrollment_enrollmentchange_change", args=[e.changes.get().pk])
    assert 'name="_save"' not in client.get(history_url).content.decode()
