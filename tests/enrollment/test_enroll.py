from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from enrollment.models import Enrollment, Notification
from enrollment.services import EnrollmentError, enroll_participant
from tests.enrollment.helpers import open_course, people, quota_course
from tests.factories import CourseFactory, ParticipantFactory

pytestmark = pytest.mark.django_db
ROME = ZoneInfo("Europe/Rome")
S = Enrollment.Status


def test_twentieth_seat_is_confirmed_and_twenty_first_waitlisted():
    course = open_course()
    users = people(21)
    statuses = [enroll_participant(user=u, course=course).status for u in users]
    assert statuses[:20] == [S.CONFIRMED] * 20
    assert statuses[19] == S.CONFIRMED
    assert statuses[20] == S.WAITLISTED


def test_with_approval_requests_hold_seats_and_the_twenty_first_waits():
    course = open_course(requires_approval=True)
    users = people(21)
    statuses = [enroll_participant(user=u, course=course).status for u in users]
    assert statuses[:20] == [S.REQUESTED] * 20
    assert statuses[20] == S.WAITLISTED


def test_capacity_other_than_twenty_is_respected():
    course = open_course(capacity=2)
    a, b, c = people(3)
    assert enroll_participant(user=a, course=course).status == S.CONFIRMED
    assert enroll_participant(user=b, course=course).status == S.CONFIRMED
    assert enroll_participant(user=c, course=course).status == S.WAITLISTED


def test_enrolling_twice_is_refused_and_creates_nothing():
    course = open_course()
    (user,) = people(1)
    enroll_participant(user=user, course=course)
    with pytest.raises(EnrollmentError, match="già iscritto"):
        enroll_participant(user=user, course=course)
    assert Enrollment.objects.filter(user=user).count() == 1
    assert Notification.objects.filter(enrollment__user=user).count() == 1


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (dt.datetime(2026, 3, 12, 23, 59, 59, tzinfo=ROME), True),
        (dt.datetime(2026, 3, 13, 0, 0, 0, tzinfo=ROME), False),
        (dt.datetime(2026, 3, 13, 0, 1, 0, tzinfo=ROME), False),
        (dt.datetime(2026, 3, 12, 0, 0, 0, tzinfo=ROME), True),
    ],
)
def test_deadline_is_the_end_of_the_deadline_day_in_rome(moment, is_open):
    course = CourseFactory(enrollment_deadline=dt.date(2026, 3, 12))
    (user,) = people(1)
    with time_machine.travel(moment, tick=False):
        if is_open:
            assert enroll_participant(user=user, course=course).status == S.CONFIRMED
        else:
            with pytest.raises(EnrollmentError, match="12/03/2026"):
                enroll_participant(user=user, course=course)
            assert not Enrollment.objects.exists()


def test_post_after_deadline_shows_a_clear_message(client):
    course = CourseFactory(enrollment_deadline=dt.date(2026, 3, 12))
    user = ParticipantFactory()
    client.force_login(user)
    with time_machine.travel(dt.datetime(2026, 3, 13, 0, 1, tzinfo=ROME), tick=False):
        response = client.post(f"/courses/{course.slug}/enroll/", follow=True)
        html = response.content.decode()
    assert "Le iscrizioni si sono chiuse il 12/03/2026" in html
    assert not Enrollment.objects.exists()


def test_incomplete_profile_cannot_enrol_and_is_sent_to_the_profile(client):
    course = open_course()
    user = ParticipantFactory(profile__codice_fiscale="")
    client.force_login(user)
    response = client.post(f"/courses/{course.slug}/enroll/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/profile/?next=/courses/{course.slug}/"
    with pytest.raises(EnrollmentError, match="profilo"):
        enroll_participant(user=user, course=course)
    assert not Enrollment.objects.exists()


def test_anonymous_enrol_goes_to_login_then_back_to_the_course(client):
    course = open_course()
    response = client.post(f"/courses/{course.slug}/enroll/")
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/login/?next=/courses/{course.slug}/"


def test_enrol_from_the_browser_confirms_and_the_page_says_so(client):
    course = open_course()
    user = ParticipantFactory()
    client.force_login(user)
    page = client.get(course.get_absolute_url()).content.decode()
    assert "Iscriviti" in page
    response = client.post(f"/courses/{course.slug}/enroll/", follow=True)
    html = response.content.decode()
    assert "Iscrizione confermata" in html
    assert "Confermata" in html
    assert Enrollment.objects.get(user=user).status == S.CONFIRMED


def test_full_course_page_offers_the_waiting_list(client):
    course = open_course(capacity=1)
    (first,) = people(1)
    enroll_participant(user=first, course=course)
    client.force_login(ParticipantFactory())
    html = client.get(course.get_absolute_url()).content.decode()
    assert "Iscriviti alla lista d&#x27;attesa" in html or "Iscriviti alla lista d'attesa" in html


@pytest.mark.parametrize(
    ("restriction", "profile", "message"),
    [
        (
            {"eligible_professions": ["assistente_sociale"]},
            {"profession": "psicologo"},
            "riservato a",
        ),
        (
            {"eligible_organisation_types": ["comune"]},
            {"organisation_type": "terzo_settore"},
            "riservato al personale di",
        ),
        ({"eligible_roles": ["dirigente", "responsabile"]}, {"role": "Impiegato"}, "ruoli"),
    ],
)
def test_ineligible_user_is_told_why(client, restriction, profile, message):
    course = open_course(**restriction)
    (user,) = people(1, **profile)
    with pytest.raises(EnrollmentError, match=message):
        enroll_participant(user=user, course=course)
    client.force_login(user)
    html = client.get(course.get_absolute_url()).content.decode()
    assert message in html
    assert 'action="/courses/' not in html  # no enrol button


def test_eligible_user_passes_each_restriction():
    course = open_course(
        eligible_professions=["dirigente"],
        eligible_organisation_types=["comune"],
        eligible_roles=["dirigente"],
    )
    (user,) = people(1, profession="dirigente", organisation_type="comune", role="Dirigente area")
    assert enroll_participant(user=user, course=course).status == S.CONFIRMED


def test_quota_seats_come_from_the_participants_organisation_type():
    course = quota_course(terzo_settore=2, comune=1)
    comune = people(2, organisation_type="comune")
    third = people(3, organisation_type="terzo_settore")
    assert enroll_participant(user=comune[0], course=course).status == S.CONFIRMED
    # The Comune quota is full although the course still has two free seats.
    assert enroll_participant(user=comune[1], course=course).status == S.WAITLISTED
    assert enroll_participant(user=third[0], course=course).status == S.CONFIRMED
    assert enroll_participant(user=third[1], course=course).status == S.CONFIRMED
    assert enroll_participant(user=third[2], course=course).status == S.WAITLISTED
    assert Enrollment.objects.get(user=comune[0]).quota_key == "comune"


def test_organisation_type_without_a_quota_is_not_eligible():
    course = quota_course(terzo_settore=40, comune=30)
    (user,) = people(1, organisation_type="ats_asst")
    with pytest.raises(EnrollmentError, match="riservato al personale di"):
        enroll_participant(user=user, course=course)


def test_rejected_person_cannot_enrol_again():
    course = open_course()
    (user,) = people(1)
    enrollment = enroll_participant(user=user, course=course)
    Enrollment.objects.filter(pk=enrollment.pk).update(status=S.REJECTED)
    with pytest.raises(EnrollmentError, match="respinta"):
        enroll_participant(user=user, course=course)


def test_ics_download_lists_every_session(client):
    course = open_course()
    response = client.get(f"/courses/{course.slug}/calendar.ics")
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.count("BEGIN:VEVENT") == 3
    assert "TZID=Europe/Rome" in body or "Europe/Rome" in body


def test_catalogue_shows_seats_left(client):
    course = open_course(capacity=3)
    enroll_participant(user=people(1)[0], course=course)
    html = client.get("/").content.decode()
    assert "2 posti disponibili" in html
