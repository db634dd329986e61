"""Erasure, by the person or by the retention task: the history stays, the person goes."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.admin.models import DELETION, LogEntry
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import RetentionPolicy, User
from attendance.models import Attendance
from certificates.models import Certificate
from certificates.services import issue_certificate, issue_certificate_if_eligible
from enrollment.models import Enrollment
from enrollment.services import enroll_participant
from privacy.services import anonymise_inactive_accounts
from questionnaire.selectors import get_results
from tests.certificates.conftest import attend, complete_questionnaire
from tests.enrollment.helpers import open_course, people
from tests.factories import (
    PASSWORD,
    CourseFactory,
    EnrollmentFactory,
    SecretariatFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Status = Enrollment.Status


def ended_course(**kwargs: object):
    """Three 4-hour sessions (720 minutes), the last one a week ago."""
    course = CourseFactory(sessions=0, **kwargs)
    today = timezone.localdate()
    for days_ago in (21, 14, 7):
        SessionFactory(course=course, date=today - dt.timedelta(days=days_ago))
    return course


def erase_by_the_person(user: User) -> None:
    client = Client()
    client.force_login(user)
    response = client.post(reverse("my_data"), {"password": PASSWORD})
    assert response.status_code == 302


def erase_by_retention(user: User) -> None:
    # Unused for a month against a policy of three days; the ended course's last session is
    # older than that, so the retention task does not consider the person busy.
    User.objects.filter(pk=user.pk).update(last_login=timezone.now() - dt.timedelta(days=30))
    RetentionPolicy.objects.update_or_create(pk=1, defaults={"inactive_days": 3})
    assert anonymise_inactive_accounts() == 1


ERASURES = [
    pytest.param(erase_by_the_person, id="by-the-person"),
    pytest.param(erase_by_retention, id="by-retention"),
]


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(SecretariatFactory())
    return client


@pytest.mark.parametrize("erase", ERASURES)
def test_erasure_keeps_an_enrolment_in_an_ended_course_under_the_anonymised_name(
    erase, staff_client
):
    # given: a person confirmed in an ended course, with attendance, questionnaire, certificate
    course = ended_course()
    mine = EnrollmentFactory(course=course, user__first_name="Zebedeo")
    other = EnrollmentFactory(course=course)
    for enrollment in (mine, other):
        attend(enrollment, 720)
        complete_questionnaire(enrollment)
    certificate, _created = issue_certificate(enrollment=mine)
    person = mine.user
    results_before = get_results(course)
    assert (results_before.completed, results_before.confirmed) == (2, 2)

    # when
    erase(person)

    # then: the history is the same, under the anonymised name
    label = f"Utente anonimizzato n. {person.pk}"
    mine.refresh_from_db()
    assert mine.status == Status.CONFIRMED
    assert Attendance.objects.filter(enrollment=mine).count() == 3
    results = get_results(course)
    assert (results.completed, results.confirmed) == (2, 2)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    session = course.sessions.order_by("date").first()
    pages = {
        "register": reverse("attendance:register", kwargs={"pk": session.pk}),
        "grid": reverse("attendance:summary", kwargs={"slug": course.slug}),
        "csv": reverse("attendance:export_csv", kwargs={"slug": course.slug}),
        "certificates": reverse("certificates:course", kwargs={"slug": course.slug}),
    }
    for name, url in pages.items():
        response = staff_client.get(url)
        assert response.status_code == 200, name
        text = response.content.decode("utf-8-sig")
        assert label in text, name
        assert "Zebedeo" not in text and person.email not in text, name
        assert other.user.last_name in text, name
    certificates_page = staff_client.get(pages["certificates"]).content.decode()
    assert certificate.serial in certificates_page


@pytest.mark.parametrize(
    ("erase", "sessions"),
    [
        pytest.param(erase_by_the_person, 3, id="by-the-person"),
        # The retention task leaves alone whoever is enrolled in a course still to be held, so
        # a future enrolment reaches it only for a course whose dates are not set yet.
        pytest.param(erase_by_retention, 0, id="by-retention"),
    ],
)
def test_erasure_cancels_only_courses_not_started_and_gives_the_seat_to_the_first_in_line(
    erase, sessions
):
    # given: the person holds the only seat of a future course, two people wait for it in
    # order, and the person also took part in a course that has ended
    future = open_course(capacity=1, sessions=sessions)
    person, first, second = people(3)
    held = enroll_participant(user=person, course=future)
    waiting_first = enroll_participant(user=first, course=future)
    waiting_second = enroll_participant(user=second, course=future)
    assert (held.status, waiting_first.status, waiting_second.status) == (
        Status.CONFIRMED,
        Status.WAITLISTED,
        Status.WAITLISTED,
    )
    past = EnrollmentFactory(course=ended_course(), user=person)

    # when
    erase(person)

    # then
    for enrollment in (held, waiting_first, waiting_second, past):
        enrollment.refresh_from_db()
    assert held.status == Status.CANCELLED
    assert waiting_first.status == Status.CONFIRMED
    assert waiting_second.status == Status.WAITLISTED
    assert past.status == Status.CONFIRMED


def test_erasure_keeps_a_waiting_place_in_a_course_that_has_started():
    course = ended_course(capacity=1)
    EnrollmentFactory(course=course)
    person = people(1)[0]
    waiting = EnrollmentFactory(
        course=course, user=person, status=Status.WAITLISTED, waitlisted_at=timezone.now()
    )
    erase_by_the_person(person)
    waiting.refresh_from_db()
    assert waiting.status == Status.WAITLISTED


def test_no_certificate_is_issued_to_an_erased_person_in_the_name_of_nobody():
    # given: eligible in an ended course, certificate not yet issued
    course = ended_course()
    enrollment = EnrollmentFactory(course=course)
    attend(enrollment, 720)
    complete_questionnaire(enrollment)

    erase_by_the_person(enrollment.user)

    assert issue_certificate_if_eligible(enrollment_id=enrollment.pk) is None
    assert not Certificate.objects.filter(enrollment=enrollment).exists()
    enrollment.refresh_from_db()
    assert enrollment.status == Status.CONFIRMED


def test_retention_erases_a_stale_account_whose_only_future_enrolment_is_cancelled():
    # given: unused for over a year; confirmed in a course held long ago (kept as history) and
    # once enrolled, then cancelled, in a course still to come
    person = people(1)[0]
    User.objects.filter(pk=person.pk).update(last_login=timezone.now() - dt.timedelta(days=400))
    old = CourseFactory(sessions=0)
    SessionFactory(course=old, date=timezone.localdate() - dt.timedelta(days=500))
    kept = EnrollmentFactory(user=person, course=old)
    EnrollmentFactory(user=person, course=open_course(), status=Status.CANCELLED)
    RetentionPolicy.objects.create(inactive_days=365)

    assert anonymise_inactive_accounts() == 1

    person.refresh_from_db()
    assert person.last_name == f"Utente anonimizzato n. {person.pk}"
    kept.refresh_from_db()
    assert kept.status == Status.CONFIRMED


def test_erasure_logs_the_person_out_everywhere_and_deletes_their_sessions():
    person, other = people(2)
    phone, laptop, someone_else = Client(), Client(), Client()
    phone.force_login(person)
    laptop.force_login(person)
    someone_else.force_login(other)
    laptop_key = laptop.session.session_key
    assert Session.objects.filter(session_key=laptop_key).exists()

    response = phone.post(reverse("my_data"), {"password": PASSWORD})
    assert response.status_code == 302

    assert not Session.objects.filter(session_key=laptop_key).exists()
    assert laptop.get(reverse("my_data")).status_code == 302  # back to the login page
    assert Session.objects.filter(session_key=someone_else.session.session_key).exists()
    assert someone_else.get(reverse("my_data")).status_code == 200


def test_erasure_deletes_the_persons_login_records_and_only_theirs(client):
    person, other = people(2)
    for user in (person, other):
        # A successful login, then a failed one typed in another case (a success would reset
        # the failures of the same account, however it is written).
        client.post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
        client.logout()
        client.post(reverse("accounts:login"), {"username": user.email.upper(), "password": "x"})
    client.post(reverse("accounts:login"), {"username": person.email.title(), "password": "x"})
    assert AccessAttempt.objects.filter(username__iexact=person.email).exists()
    assert AccessLog.objects.filter(username__iexact=person.email).exists()

    erase_by_the_person(person)

    for model in (AccessAttempt, AccessLog):
        assert not model.objects.filter(username__icontains=person.email).exists(), model
        assert model.objects.filter(username__iexact=other.email).exists(), model
    assert not AccessAttempt.objects.filter(post_data__icontains=person.email).exists()


class _FormData(HTMLParser):
    """The values a browser would submit for the admin's change form, as rendered."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "input" and "name" in a:
            kind = a.get("type", "text")
            if kind in ("submit", "button", "file", "image"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._add(a["name"], a.get("value", "on" if kind in ("checkbox", "radio") else ""))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea":
            self._textarea = a.get("name")
            self._add(self._textarea or "", "")

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def edit_in_the_admin(client: Client, user: User, **changes: str) -> None:
    url = reverse("admin:accounts_user_change", args=[user.pk])
    parser = _FormData()
    parser.feed(client.get(url).content.decode())
    data = {**parser.data, **{key: [value] for key, value in changes.items()}}
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors


def test_erasure_scrubs_the_person_from_the_admin_log_and_leaves_a_namesake_alone():
    # given: the admin edited the person (accented name: stored escaped in JSON), deleted one
    # of their enrolments, and edited a namesake
    person, namesake = people(2)
    User.objects.filter(pk__in=[person.pk, namesake.pk]).update(
        first_name="Niccolò", last_name="Quattrocchi"
    )
    person.refresh_from_db()
    admin = Client()
    admin.force_login(UserFactory(is_staff=True, is_superuser=True))
    edit_in_the_admin(admin, person, **{"profile-0-role": "Coordinatrice"})
    edit_in_the_admin(admin, namesake, **{"profile-0-role": "Coordinatore"})
    deleted = EnrollmentFactory(user=person, status=Status.CANCELLED)
    # Enrolments are read-only in the admin now; an older deletion left an entry like this.
    LogEntry.objects.log_actions(
        user_id=admin.session["_auth_user_id"],
        queryset=Enrollment.objects.filter(pk=deleted.pk),
        action_flag=DELETION,
        single_object=True,
    )
    deleted.delete()
    user_entries = LogEntry.objects.filter(content_type__model="user")
    about_person = user_entries.get(object_id=str(person.pk))
    assert "Niccolò Quattrocchi" in about_person.get_change_message()
    assert LogEntry.objects.filter(object_repr__startswith="Niccolò Quattrocchi –").exists()
    namesakes_entry = user_entries.values().get(object_id=str(namesake.pk))

    # when
    erase_by_the_person(person)

    # then
    label = f"Utente anonimizzato n. {person.pk}"
    for entry in LogEntry.objects.exclude(pk=namesakes_entry["id"]):
        for text in (entry.object_repr, entry.get_change_message(), entry.change_message):
            assert "Niccol" not in text and "Quattrocchi" not in text, text
            assert person.email not in text
    about_person.refresh_from_db()
    assert about_person.object_repr == label
    assert label in about_person.get_change_message()  # still valid JSON, still readable
    assert LogEntry.objects.filter(object_repr__startswith=f"{label} –").exists()
    assert user_entries.values().get(object_id=str(namesake.pk)) == namesakes_entry


def test_reset_and_activation_links_sent_before_erasure_no_longer_work(client):
    person = people(1)[0]
    browser = Client()
    browser.force_login(person)  # before the token: signing in alone changes the token's hash
    person.refresh_from_db()
    token = default_token_generator.make_token(person)
    uidb64 = urlsafe_base64_encode(force_bytes(person.pk))
    assert browser.post(reverse("my_data"), {"password": PASSWORD}).status_code == 302
    person.refresh_from_db()
    assert not default_token_generator.check_token(person, token)
    client.get(reverse("accounts:activate", kwargs={"uidb64": uidb64, "token": token}))
    person.refresh_from_db()
    assert not person.is_active
    assert "_auth_user_id" not in client.session


def test_the_erasure_page_says_what_is_cancelled_and_what_is_kept(client):
    client.force_login(people(1)[0])
    text = client.get(reverse("my_data")).content.decode()
    assert "Le iscrizioni ai corsi non ancora iniziati vengono annullate" in text
    assert "resta nei registri delle presenze e negli elenchi degli attestati" in text
