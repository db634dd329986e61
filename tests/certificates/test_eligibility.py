"""The gate: confirmed, course ended, attendance at the threshold, questionnaire completed."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import time_machine

from certificates.selectors import get_eligibility
from certificates.services import issue_certificate
from enrollment.models import Enrollment
from tests.certificates.conftest import attend, complete_questionnaire
from tests.factories import EnrollmentFactory
from tests.web.boxes import render_certificate_box

ROME = ZoneInfo("Europe/Rome")


def test_575_of_720_minutes_is_not_enough(make_eligible):
    eligibility = get_eligibility(make_eligible(575))

    assert not eligibility.eligible
    assert eligibility.progress.attended_minutes == 575
    assert eligibility.progress.total_minutes == 720
    assert eligibility.missing == [
        "manca 1 minuto di presenza per raggiungere la frequenza minima (80%)"
    ]


def test_576_of_720_minutes_is_enough(make_eligible):
    eligibility = get_eligibility(make_eligible(576))

    assert eligibility.eligible
    assert eligibility.missing == []


def test_missing_minutes_are_spelled_out(make_eligible):
    eligibility = get_eligibility(make_eligible(535))

    assert any(item.startswith("mancano 41 minuti") for item in eligibility.missing)


def test_missing_hours_and_minutes(make_eligible):
    eligibility = get_eligibility(make_eligible(480 - 5))

    assert any(item.startswith("mancano 1 ora e 41 minuti") for item in eligibility.missing)


def test_no_questionnaire_no_certificate(make_eligible):
    eligibility = get_eligibility(make_eligible(720, questionnaire=False))

    assert not eligibility.eligible
    assert eligibility.missing == ["compila il questionario di gradimento"]


def test_course_not_ended_no_certificate(make_eligible, ended_course):
    enrollment = make_eligible(720)
    last = ended_course.sessions.order_by("-date").first()
    during_last_session = dt.datetime.combine(last.date, dt.time(11, 0), tzinfo=ROME)

    with time_machine.travel(during_last_session, tick=False):
        eligibility = get_eligibility(enrollment)

    assert not eligibility.eligible
    assert not eligibility.course_ended
    day = f"{last.date.day} "
    assert len(eligibility.missing) == 1
    assert eligibility.missing[0].startswith("il corso termina il " + day)


def test_course_ends_at_the_end_of_the_last_session(make_eligible, ended_course):
    enrollment = make_eligible(720)
    last = ended_course.sessions.order_by("-date").first()

    with time_machine.travel(last.ends_at(), tick=False):
        assert get_eligibility(enrollment).eligible
    with time_machine.travel(last.ends_at() - dt.timedelta(seconds=1), tick=False):
        assert not get_eligibility(enrollment).eligible


def test_only_confirmed_enrolments(ended_course):
    enrollment = EnrollmentFactory(course=ended_course)
    attend(enrollment, 720)
    complete_questionnaire(enrollment)
    Enrollment.objects.filter(pk=enrollment.pk).update(status=Enrollment.Status.CANCELLED)
    enrollment.refresh_from_db()

    eligibility = get_eligibility(enrollment)

    assert not eligibility.eligible
    assert "l'iscrizione al corso non è confermata" in eligibility.missing


def test_everything_missing_is_listed(ended_course):
    enrollment = EnrollmentFactory(course=ended_course)

    eligibility = get_eligibility(enrollment)

    assert eligibility.missing == [
        "mancano 9 ore e 36 minuti di presenza per raggiungere la frequenza minima (80%)",
        "compila il questionario di gradimento",
    ]


def _status(course, user) -> str:
    return render_certificate_box(course, user)


def test_course_page_box_says_what_is_missing(make_eligible, ended_course):
    enrollment = make_eligible(535, questionnaire=False)

    html = _status(ended_course, enrollment.user)

    assert "mancano 41 minuti" in html
    assert "compila il questionario di gradimento" in html


def test_course_page_box_offers_the_download(eligible, ended_course):
    certificate, _ = issue_certificate(enrollment=eligible)

    html = _status(ended_course, eligible.user)

    assert f"/certificates/{certificate.token}/download/" in html


def test_course_page_box_is_empty_for_others(ended_course, participant, client):
    from django.contrib.auth.models import AnonymousUser

    assert _status(ended_course, participant).strip() == ""
    assert _status(ended_course, AnonymousUser()).strip() == ""


def test_a_course_without_sessions_says_so(db):
    from tests.factories import CourseFactory

    enrollment = EnrollmentFactory(course=CourseFactory(sessions=0))
    complete_questionnaire(enrollment)

    assert get_eligibility(enrollment).missing == ["il corso non ha ancora giornate in calendario"]
