"""The secretariat's batch work on a course: all valid certificates as one streamed ZIP, and the
"certificate ready" e-mail sent again to whoever has not downloaded theirs."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from certificates.formatting import archive_member_names
from certificates.models import Certificate, NotificationStatus
from certificates.services import (
    issue_certificate,
    reissue_certificate,
    resend_ready_emails,
    revoke_certificate,
)
from tests.factories import ParticipantFactory


def _p7m(certificate: Certificate) -> bytes:
    with certificate.file.open("rb") as fh:
        return fh.read()


def _issue(make_eligible, last_name: str) -> Certificate:
    enrollment = make_eligible(user=ParticipantFactory(last_name=last_name))
    certificate, _created = issue_certificate(enrollment=enrollment)
    return certificate


def _mark_sent(*certificates: Certificate) -> None:
    Certificate.objects.filter(pk__in=[c.pk for c in certificates]).update(
        notification_status=NotificationStatus.SENT, notified_at=timezone.now()
    )


# --- ZIP -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_zip_contains_exactly_the_valid_certificates_named_by_surname_and_number(
    client, secretariat, make_eligible, ended_course
):
    # given: one valid, one revoked, one replaced by a new version
    valid = _issue(make_eligible, "D'Amico")
    revoked = _issue(make_eligible, "Bianchi")
    revoke_certificate(certificate=revoked, reason="Errore", actor=secretariat)
    replaced = _issue(make_eligible, "Ferrà")
    replacement = reissue_certificate(certificate=replaced, reason="Nome", actor=secretariat)
    client.force_login(secretariat)

    # when
    response = client.get(reverse("certificates:course_zip", kwargs={"slug": ended_course.slug}))

    # then
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="attestati-C5092Z-1.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.testzip() is None
    assert archive.namelist() == [
        f"D-Amico-{valid.serial}.pdf.p7m",
        f"Ferra-{replacement.serial}.pdf.p7m",
    ]
    assert archive.read(f"D-Amico-{valid.serial}.pdf.p7m") == _p7m(valid)
    assert archive.read(f"Ferra-{replacement.serial}.pdf.p7m") == _p7m(replacement)


def test_zip_of_a_course_without_certificates_is_an_empty_archive(
    client, secretariat, ended_course
):
    client.force_login(secretariat)

    response = client.get(reverse("certificates:course_zip", kwargs={"slug": ended_course.slug}))

    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == []


def test_zip_is_for_the_secretariat_only(client, participant, ended_course):
    url = reverse("certificates:course_zip", kwargs={"slug": ended_course.slug})

    assert client.get(url).status_code == 302
    client.force_login(participant)
    assert client.get(url).status_code == 403


def test_archive_names_are_ascii_and_unique():
    names = archive_member_names(
        [("Nicolò", "C1-2026-000001"), ("", "C1-2026-000002"), ("A B", "X/1"), ("A-B", "X 1")]
    )

    assert names == [
        "Nicolo-C1-2026-000001.pdf.p7m",
        "attestato-C1-2026-000002.pdf.p7m",
        "A-B-X-1.pdf.p7m",
        "A-B-X-1-2.pdf.p7m",
    ]


# --- First download and the reminder -------------------------------------------------------------


def test_the_owners_first_download_is_recorded_once(client, make_eligible):
    certificate = _issue(make_eligible, "Rossi")
    assert certificate.first_downloaded_at is None
    client.force_login(certificate.enrollment.user)
    url = reverse("certificates:download", kwargs={"token": certificate.token})

    client.get(url)
    certificate.refresh_from_db()
    first = certificate.first_downloaded_at
    client.get(url)
    certificate.refresh_from_db()

    assert first is not None
    assert certificate.first_downloaded_at == first


def test_reminder_goes_only_to_who_has_not_downloaded(
    client, secretariat, make_eligible, ended_course, mailoutbox, django_capture_on_commit_callbacks
):
    downloaded = _issue(make_eligible, "Rossi")
    waiting = _issue(make_eligible, "Verdi")
    revoked = _issue(make_eligible, "Neri")
    revoke_certificate(certificate=revoked, reason="Errore", actor=secretariat)
    _mark_sent(downloaded, waiting)
    client.force_login(downloaded.enrollment.user)
    client.get(reverse("certificates:download", kwargs={"token": downloaded.token}))
    client.force_login(secretariat)
    url = reverse("certificates:course", kwargs={"slug": ended_course.slug})
    assert "ancora scaricato l'attestato (1)" in client.get(url).content.decode()
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "resend"}, follow=True)

    assert [m.to for m in mailoutbox] == [[waiting.enrollment.user.email]]
    assert waiting.serial in mailoutbox[0].body
    assert "inviata di nuovo a 1 partecipante" in response.content.decode()
    waiting.refresh_from_db()
    assert waiting.notification_status == NotificationStatus.SENT


def test_reminder_clicked_twice_sends_one_email_each(
    secretariat, make_eligible, ended_course, mailoutbox, django_capture_on_commit_callbacks
):
    waiting = _issue(make_eligible, "Verdi")
    _mark_sent(waiting)
    mailoutbox.clear()

    # The first request's task has not run yet when the second click arrives.
    with django_capture_on_commit_callbacks(execute=False) as first:
        assert resend_ready_emails(course=ended_course) == 1
    with django_capture_on_commit_callbacks(execute=False) as second:
        assert resend_ready_emails(course=ended_course) == 1
    for callback in first + second:
        callback()

    assert len(mailoutbox) == 1


def test_reminder_retries_an_email_that_had_failed(
    secretariat, make_eligible, ended_course, mailoutbox, django_capture_on_commit_callbacks
):
    failed = _issue(make_eligible, "Verdi")
    Certificate.objects.filter(pk=failed.pk).update(
        notification_status=NotificationStatus.FAILED,
        notification_attempts=7,
        notification_error="SMTP 550",
    )
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        resend_ready_emails(course=ended_course)

    failed.refresh_from_db()
    assert failed.notification_status == NotificationStatus.SENT
    assert failed.notification_attempts == 1
    assert len(mailoutbox) == 1


def test_nothing_to_resend_when_everyone_downloaded(client, secretariat, ended_course):
    client.force_login(secretariat)
    url = reverse("certificates:course", kwargs={"slug": ended_course.slug})

    response = client.post(url, {"action": "resend"}, follow=True)

    assert "già stati scaricati" in response.content.decode()
