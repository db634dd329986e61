"""The "certificate ready" e-mail goes through the outbox: a broker or mail-server outage
loses nothing, and never stops a certificate from being issued."""

from __future__ import annotations

import io
import smtplib

import pytest
from celery.exceptions import Retry
from django.core.management import call_command
from django.urls import reverse

from certificates.models import Certificate
from certificates.services import issue_certificate
from certificates.tasks import flush_certificate_outbox_task, send_certificate_ready_task
from tests.certificates.conftest import broker_down


@pytest.mark.slow
def test_emetti_and_the_command_work_while_the_broker_is_down_and_the_flush_sends_later(
    client, secretariat, eligible, ended_course, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(secretariat)
    url = reverse("certificates:course", kwargs={"slug": ended_course.slug})

    with broker_down():
        # the secretariat presses "Emetti": the page answers and says the work waits
        response = client.post(url, {"action": "issue"}, follow=True)
        assert response.status_code == 200
        assert "coda di lavoro non è raggiungibile" in response.content.decode()
        assert not Certificate.objects.exists()

        # issue_certificates still issues; the e-mail waits in the outbox
        with django_capture_on_commit_callbacks(execute=True):
            call_command("issue_certificates", ended_course.code, stdout=io.StringIO())
        certificate = Certificate.objects.get(enrollment=eligible)
        assert certificate.notification_status == "pending"
        assert mailoutbox == []

    # the broker is back: beat's sweep sends it, once
    assert flush_certificate_outbox_task(older_than_seconds=0) == 1
    assert flush_certificate_outbox_task(older_than_seconds=0) == 0
    assert [m.to for m in mailoutbox] == [[eligible.user.email]]
    certificate.refresh_from_db()
    assert certificate.notification_status == "sent"


def test_flush_sends_pending_e_mails_once(eligible, mailoutbox):
    # A certificate whose e-mail task was lost (broker down at commit time).
    certificate, _ = issue_certificate(enrollment=eligible)  # on_commit not run: task never sent
    assert mailoutbox == []

    assert flush_certificate_outbox_task(older_than_seconds=0) == 1
    assert flush_certificate_outbox_task(older_than_seconds=0) == 0

    assert [m.to for m in mailoutbox] == [[eligible.user.email]]
    certificate.refresh_from_db()
    assert certificate.notification_status == "sent" and certificate.notified_at is not None


def test_flush_waits_before_taking_over(eligible, mailoutbox):
    issue_certificate(enrollment=eligible)

    assert flush_certificate_outbox_task(older_than_seconds=120) == 0
    assert mailoutbox == []


def test_flush_skips_revoked_certificates(eligible, mailoutbox):
    from certificates.services import revoke_certificate

    certificate, _ = issue_certificate(enrollment=eligible)
    revoke_certificate(certificate=certificate, reason="Errore", actor=None)

    assert flush_certificate_outbox_task(older_than_seconds=0) == 0
    assert mailoutbox == []


def test_a_transient_failure_asks_celery_for_a_retry(eligible, monkeypatch):
    certificate, _ = issue_certificate(enrollment=eligible)

    def busy(self, fail_silently=False):
        raise smtplib.SMTPDataError(451, b"try later")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", busy)

    with pytest.raises(Retry):
        send_certificate_ready_task.delay(certificate.pk)
    certificate.refresh_from_db()
    assert certificate.notification_status == "pending"
    assert certificate.notification_attempts == 1
    assert certificate.notification_error == "SMTP 451"


def test_an_e_mail_that_runs_out_of_attempts_is_failed_and_listed(
    client, secretariat, eligible, mailoutbox, monkeypatch
):
    from certificates.emails import MAX_ATTEMPTS, TransientEmailError, send_certificate_ready

    certificate, _ = issue_certificate(enrollment=eligible)

    def down(self, fail_silently=False):
        raise smtplib.SMTPServerDisconnected("connection lost")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", down)

    # What the worker's retries do, one after the other.
    for _attempt in range(MAX_ATTEMPTS - 1):
        with pytest.raises(TransientEmailError):
            send_certificate_ready(certificate_id=certificate.pk)
    assert send_certificate_ready(certificate_id=certificate.pk) is False  # the last one

    certificate.refresh_from_db()
    assert certificate.notification_status == "failed"
    assert certificate.notification_attempts == MAX_ATTEMPTS
    assert certificate.notification_error == "SMTPServerDisconnected"
    assert send_certificate_ready_task.max_retries == MAX_ATTEMPTS - 1
    # the sweep leaves it alone, the secretariat sees it
    assert flush_certificate_outbox_task(older_than_seconds=0) == 0
    client.force_login(secretariat)
    page = client.get(
        reverse("certificates:course", kwargs={"slug": eligible.course.slug})
    ).content.decode()
    assert "E-mail non recapitate" in page
    assert eligible.user.email in page.split("E-mail non recapitate", 1)[1]


def test_beat_sweeps_the_certificate_outbox(settings):
    from portal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["flush-certificate-outbox"]
    assert entry["task"] == flush_certificate_outbox_task.name
    assert entry["task"] in app.tasks
    assert entry["schedule"] <= 15 * 60
