from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from enrollment.models import Enrollment, Notification
from enrollment.selectors import get_waitlist_position
from enrollment.services import (
    EnrollmentError,
    cancel_enrollment,
    enroll_participant,
    give_back_seat,
)
from enrollment.tokens import make_give_back_token
from tests.enrollment.helpers import open_course, people, quota_course

pytestmark = pytest.mark.django_db
S = Enrollment.Status


def _fill(course, n, **profile):
    users = people(n, **profile)
    return [enroll_participant(user=u, course=course) for u in users]


def test_cancellation_promotes_the_first_in_line():
    course = open_course(capacity=2)
    a, b, w1, w2 = _fill(course, 4)
    assert [w1.status, w2.status] == [S.WAITLISTED, S.WAITLISTED]
    cancel_enrollment(enrollment=a)
    w1.refresh_from_db()
    w2.refresh_from_db()
    assert w1.status == S.CONFIRMED
    assert w2.status == S.WAITLISTED
    assert get_waitlist_position(w2) == 1
    assert Notification.objects.filter(enrollment=w1, kind="promoted").count() == 1


def test_waitlist_positions_follow_arrival_order():
    course = open_course(capacity=1)
    _a, w1, w2, w3 = _fill(course, 4)
    assert [get_waitlist_position(e) for e in (w1, w2, w3)] == [1, 2, 3]


def test_cancelling_a_waitlisted_place_promotes_nobody():
    course = open_course(capacity=1)
    a, w1, w2 = _fill(course, 3)
    cancel_enrollment(enrollment=w1)
    w2.refresh_from_db()
    a.refresh_from_db()
    assert w2.status == S.WAITLISTED and a.status == S.CONFIRMED
    assert get_waitlist_position(w2) == 1


def test_promotion_skips_someone_no_longer_eligible():
    course = open_course(capacity=1, eligible_professions=["assistente_sociale"])
    a, w1, w2 = _fill(course, 3)
    w1.user.profile.profession = "psicologo"
    w1.user.profile.save()
    cancel_enrollment(enrollment=a)
    w1.refresh_from_db()
    w2.refresh_from_db()
    assert w1.status == S.WAITLISTED
    assert w2.status == S.CONFIRMED


def test_promotion_stays_within_the_quota():
    course = quota_course(terzo_settore=1, comune=1)
    comune = _fill(course, 2, organisation_type="comune")
    third = _fill(course, 2, organisation_type="terzo_settore")
    assert comune[1].status == S.WAITLISTED and third[1].status == S.WAITLISTED
    cancel_enrollment(enrollment=comune[0])
    comune[1].refresh_from_db()
    third[1].refresh_from_db()
    assert comune[1].status == S.CONFIRMED
    assert third[1].status == S.WAITLISTED


def test_promotion_with_approval_gives_a_request_to_confirm():
    course = open_course(capacity=1, requires_approval=True)
    a, w1 = _fill(course, 2)
    cancel_enrollment(enrollment=a)
    w1.refresh_from_db()
    assert w1.status == S.REQUESTED


def test_participant_cannot_cancel_after_the_course_starts():
    course = open_course(capacity=1)
    (a,) = _fill(course, 1)
    first = course.sessions.order_by("date").first()
    after_start = first.starts_at() + dt.timedelta(minutes=1)
    with (
        time_machine.travel(after_start, tick=False),
        pytest.raises(EnrollmentError, match="già iniziato"),
    ):
        cancel_enrollment(enrollment=a)
    with time_machine.travel(first.starts_at() - dt.timedelta(minutes=1), tick=False):
        assert cancel_enrollment(enrollment=a).status == S.CANCELLED


def test_cancelling_twice_is_refused():
    course = open_course()
    (a,) = _fill(course, 1)
    cancel_enrollment(enrollment=a)
    with pytest.raises(EnrollmentError):
        cancel_enrollment(enrollment=a)


def test_cancelled_person_who_comes_back_joins_the_end_of_the_line():
    course = open_course(capacity=1)
    a, w1 = _fill(course, 2)
    cancel_enrollment(enrollment=a)  # w1 promoted
    again = enroll_participant(user=a.user, course=course)
    assert again.pk == a.pk
    assert again.status == S.WAITLISTED


def test_give_back_link_frees_the_seat_for_the_next(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    course = open_course(capacity=1)
    with django_capture_on_commit_callbacks(execute=True):
        a, w1, w2 = _fill(course, 3)
        cancel_enrollment(enrollment=a)
    promoted_mail = [m for m in mailoutbox if m.to == [w1.user.email] and "liberato" in m.subject]
    assert len(promoted_mail) == 1
    link = re.search(r"http://[^\s]+/enrollments/give-back/[^\s]+/", promoted_mail[0].body).group(0)
    path = link.split("8000", 1)[1]
    # GET only asks for confirmation: a mail scanner following the link changes nothing.
    assert client.get(path).status_code == 200
    w1.refresh_from_db()
    assert w1.status == S.CONFIRMED
    response = client.post(path)
    assert response.status_code == 200
    w1.refresh_from_db()
    w2.refresh_from_db()
    assert w1.status == S.CANCELLED
    assert w2.status == S.CONFIRMED


def test_give_back_token_is_tamper_proof(client):
    course = open_course(capacity=1)
    (a,) = _fill(course, 1)
    token = make_give_back_token(a)
    assert client.get(f"/enrollments/give-back/{token}x/").status_code == 404
    with pytest.raises(EnrollmentError):
        give_back_seat(token=token[:-2] + "zz")
    a.refresh_from_db()
    assert a.status == S.CONFIRMED


def test_my_enrollments_shows_state_position_and_cancel(client):
    course = open_course(capacity=1)
    _a, w1 = _fill(course, 2)
    client.force_login(w1.user)
    html = client.get("/my/enrollments/").content.decode()
    assert course.code in html
    assert "posizione 1 in lista" in html
    response = client.post(f"/my/enrollments/{w1.pk}/cancel/")
    assert response.status_code == 302
    w1.refresh_from_db()
    assert w1.status == S.CANCELLED


def test_participant_cannot_cancel_someone_elses_enrollment(client):
    course = open_course()
    a, b = _fill(course, 2)
    client.force_login(b.user)
    assert client.post(f"/my/enrollments/{a.pk}/cancel/").status_code == 404
    a.refresh_from_db()
    assert a.status == S.CONFIRMED
    html = client.get("/my/enrollments/").content.decode()
    assert html.count(f"/my/enrollments/{b.pk}/cancel/") == 1
    assert f"/my/enrollments/{a.pk}/cancel/" not in html
