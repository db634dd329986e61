"""The participant's personal QR code: the signed token, its page, its image and its e-mail."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core import signing
from django.urls import reverse

from courses.models import SessionMode
from enrollment.errors import EnrollmentError
from enrollment.models import Enrollment
from enrollment.services import cancel_enrollment, enroll_participant
from enrollment.tokens import (
    enrollment_from_check_in_token,
    make_check_in_token,
    make_give_back_token,
)
from tests.factories import EnrollmentFactory, ParticipantFactory, SecretariatFactory

pytestmark = pytest.mark.django_db


def test_the_token_names_the_enrolment_and_no_personal_data(course):
    enrollment = EnrollmentFactory(course=course)
    token = make_check_in_token(enrollment)
    assert enrollment_from_check_in_token(token) == enrollment
    payload = signing.b64_decode(token.split(":")[0].encode()).decode()
    for personal in (enrollment.user.email, enrollment.user.last_name, enrollment.user.first_name):
        assert personal not in payload and personal not in token


def test_a_forged_token_is_refused(course):
    enrollment = EnrollmentFactory(course=course)
    other = EnrollmentFactory(course=course)
    token = make_check_in_token(enrollment)
    body, signature = token.rsplit(":", 1)
    forged = make_check_in_token(other).rsplit(":", 1)[0] + ":" + signature
    for bad in (forged, body + ":" + "A" * len(signature), "", "not-a-token"):
        with pytest.raises(EnrollmentError, match="non è valido"):
            enrollment_from_check_in_token(bad)


def test_another_links_token_is_not_a_check_in_code(course):
    # Same key, other salt: the give-back link cannot be shown as a QR code.
    enrollment = EnrollmentFactory(course=course)
    with pytest.raises(EnrollmentError, match="non è valido"):
        enrollment_from_check_in_token(make_give_back_token(enrollment))


def test_the_code_stops_working_when_the_person_enrols_again(course):
    enrollment = EnrollmentFactory(course=course)
    token = make_check_in_token(enrollment)
    # Enrolling again resets created_at (enroll_participant on a cancelled row).
    Enrollment.objects.filter(pk=enrollment.pk).update(
        created_at=enrollment.created_at + dt.timedelta(days=1)
    )
    with pytest.raises(EnrollmentError, match="non vale più"):
        enrollment_from_check_in_token(token)


def test_a_deleted_enrolment_makes_the_token_invalid(course):
    enrollment = EnrollmentFactory(course=course)
    token = make_check_in_token(enrollment)
    Enrollment.objects.filter(pk=enrollment.pk).update(id=enrollment.pk + 10_000)
    with pytest.raises(EnrollmentError, match="non è valido"):
        enrollment_from_check_in_token(token)


def test_my_enrolments_link_to_the_code_only_when_confirmed(client, course):
    confirmed = EnrollmentFactory(course=course)
    client.force_login(confirmed.user)
    page = client.get(reverse("enrollment:mine")).content.decode()
    assert reverse("enrollment:check_in_code", args=[confirmed.pk]) in page
    Enrollment.objects.filter(pk=confirmed.pk).update(status=Enrollment.Status.WAITLISTED)
    page = client.get(reverse("enrollment:mine")).content.decode()
    assert reverse("enrollment:check_in_code", args=[confirmed.pk]) not in page


def test_the_code_page_shows_an_svg_and_a_png_to_its_owner(client, course):
    enrollment = EnrollmentFactory(course=course)
    client.force_login(enrollment.user)
    page = client.get(reverse("enrollment:check_in_code", args=[enrollment.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'role="img"' in html
    assert reverse("enrollment:check_in_png", args=[enrollment.pk]) in html
    image = client.get(reverse("enrollment:check_in_png", args=[enrollment.pk]))
    assert image["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize("who", ["other participant", "secretariat"])
def test_nobody_else_sees_a_persons_code(client, course, who):
    enrollment = EnrollmentFactory(course=course)
    client.force_login(ParticipantFactory() if who == "other participant" else SecretariatFactory())
    for name in ("enrollment:check_in_code", "enrollment:check_in_png"):
        assert client.get(reverse(name, args=[enrollment.pk])).status_code == 404


def test_a_cancelled_enrolment_has_no_code_page(client, course):
    enrollment = EnrollmentFactory(course=course)
    cancel_enrollment(enrollment=enrollment, actor=enrollment.user)
    client.force_login(enrollment.user)
    assert client.get(reverse("enrollment:check_in_code", args=[enrollment.pk])).status_code == 404


def test_the_confirmation_email_carries_the_code_as_a_png(
    mailoutbox, django_capture_on_commit_callbacks, course
):
    user = ParticipantFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enroll_participant(user=user, course=course)
    (message,) = mailoutbox
    attachments = {name: (content, mimetype) for name, content, mimetype in message.attachments}
    (png_name,) = [name for name in attachments if name.endswith(".png")]
    content, mimetype = attachments[png_name]
    assert mimetype == "image/png" and content.startswith(b"\x89PNG")
    assert "codice QR personale" in message.body


def test_an_online_only_course_has_no_code_to_show_or_send(
    client, mailoutbox, django_capture_on_commit_callbacks, course
):
    # Nobody checks in at a door for a course held entirely online.
    course.sessions.update(mode=SessionMode.ONLINE)
    user = ParticipantFactory()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enroll_participant(user=user, course=course)
    (message,) = mailoutbox
    assert not [name for name, _, _ in message.attachments if name.endswith(".png")]
    assert "codice QR" not in message.body
    client.force_login(user)
    assert "Codice QR per l'aula" not in client.get(reverse("enrollment:mine")).content.decode()
    assert client.get(reverse("enrollment:check_in_code", args=[enrollment.pk])).status_code == 404
    # One session in the room (mista) is enough for a code.
    session = course.sessions.order_by("date").first()
    session.mode = SessionMode.MISTA
    session.save(update_fields=["mode"])
    assert client.get(reverse("enrollment:check_in_code", args=[enrollment.pk])).status_code == 200


def test_the_code_is_withdrawn_once_the_course_has_ended(client, course):
    enrollment = EnrollmentFactory(course=course)
    url = reverse("enrollment:check_in_code", args=[enrollment.pk])
    last = course.sessions.order_by("-date", "-start").first()
    with time_machine.travel(last.ends_at() - dt.timedelta(seconds=1)):
        client.force_login(enrollment.user)
        assert client.get(url).status_code == 200
    with time_machine.travel(last.ends_at()):
        client.force_login(enrollment.user)
        assert client.get(url).status_code == 404
        assert "Codice QR per l'aula" not in client.get(reverse("enrollment:mine")).content.decode()
