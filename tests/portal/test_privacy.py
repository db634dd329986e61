from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import RetentionPolicy, User
from attendance.models import Attendance, Source
from attendance.services import record_attendance
from enrollment.models import Enrollment
from enrollment.services import enroll_participant
from privacy.services import anonymise_inactive_accounts
from tests.enrollment.helpers import open_course, people
from tests.factories import PASSWORD, EnrollmentFactory, SecretariatFactory

pytestmark = pytest.mark.django_db


def test_participant_downloads_their_own_data_and_nobody_elses(client):
    me, other = people(2)
    course = open_course()
    mine = EnrollmentFactory(user=me, course=course)
    EnrollmentFactory(user=other, course=course)
    record_attendance(
        enrollment=mine,
        session=course.sessions.first(),
        minutes=200,
        recorded_by=SecretariatFactory(),
        source=Source.REGISTER,
    )
    client.force_login(me)
    response = client.get("/accounts/my-data/?format=json")
    assert response["Content-Disposition"].startswith("attachment")
    data = json.loads(response.content)
    assert data["account"]["email"] == me.email
    assert data["profile"]["codice_fiscale"] == me.profile.codice_fiscale
    assert [e["course"] for e in data["enrollments"]] == [course.code]
    assert data["attendance"][0]["minutes"] == 200
    text = response.content.decode()
    assert other.email not in text and other.profile.codice_fiscale not in text


def test_my_data_needs_login(client):
    response = client.get("/accounts/my-data/?format=json")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_erasure_frees_the_seat_keeps_attendance_and_anonymises(client):
    course = open_course(capacity=1)
    me, waiting = people(2)
    mine = enroll_participant(user=me, course=course)
    later = enroll_participant(user=waiting, course=course)
    record_attendance(
        enrollment=mine,
        session=course.sessions.first(),
        minutes=240,
        recorded_by=SecretariatFactory(),
        source=Source.REGISTER,
    )
    cf = me.profile.codice_fiscale
    client.force_login(me)
    refused = client.post("/accounts/my-data/", {"password": "wrong"})
    assert "non è corretta" in refused.content.decode()
    response = client.post("/accounts/my-data/", {"password": PASSWORD})
    assert response.status_code == 302
    me.refresh_from_db()
    assert me.email.endswith("@anonimizzato.invalid") and not me.is_active
    assert me.first_name == "" and not me.has_usable_password()
    assert me.last_name == f"Utente anonimizzato n. {me.pk}"
    assert me.profile.codice_fiscale == "" and not User.objects.filter(profile__codice_fiscale=cf)
    assert Attendance.objects.filter(enrollment=mine).count() == 1  # kept by law
    later.refresh_from_db()
    assert later.status == Enrollment.Status.CONFIRMED  # the seat went to the next in line
    assert "_auth_user_id" not in client.session


def test_retention_anonymises_only_long_inactive_participants():
    stale, recent, busy = people(3)
    staff = SecretariatFactory()
    old = timezone.now() - dt.timedelta(days=400)
    User.objects.filter(pk__in=[stale.pk, busy.pk, staff.pk]).update(last_login=old)
    User.objects.filter(pk=recent.pk).update(last_login=timezone.now() - dt.timedelta(days=10))
    EnrollmentFactory(user=busy, course=open_course())  # a course still to come
    assert anonymise_inactive_accounts() == 0  # no policy set: nothing happens
    RetentionPolicy.objects.create(inactive_days=365)
    assert anonymise_inactive_accounts() == 1
    for user in (stale, recent, busy, staff):
        user.refresh_from_db()
    assert stale.email.endswith("@anonimizzato.invalid")
    assert not recent.email.endswith(".invalid")
    assert not busy.email.endswith(".invalid")
    assert not staff.email.endswith(".invalid")


def test_retention_and_self_erasure_spare_secretariat_members_without_the_staff_flag(client):
    # given: a member of the "Segreteria" group whose staff flag is off, long inactive
    member = SecretariatFactory(is_staff=False)
    User.objects.filter(pk=member.pk).update(last_login=timezone.now() - dt.timedelta(days=400))
    RetentionPolicy.objects.create(inactive_days=365)

    # when: the retention task runs, and the member tries to erase their own account
    assert anonymise_inactive_accounts() == 0
    client.force_login(member)
    response = client.post(reverse("my_data"), {"password": PASSWORD})

    # then: the account holding secretariat permissions is untouched
    member.refresh_from_db()
    assert not member.email.endswith(".invalid")
    assert response.status_code == 200
    assert "amministrazione" in response.content.decode()


def test_the_secretariat_menu_shows_only_to_those_who_may_open_it(client):
    member = SecretariatFactory(is_staff=False)
    client.force_login(member)
    assert "/segreteria/" not in client.get("/").content.decode()
    client.force_login(SecretariatFactory())
    assert "/segreteria/" in client.get("/").content.decode()
