from __future__ import annotations

import smtplib

import pytest
from celery.exceptions import Retry

from enrollment.models import Notification
from enrollment.services import (
    TransientEmailError,
    enroll_participant,
    queue_reminders,
    send_notification,
)
from enrollment.tasks import flush_outbox_task, send_notification_task
from tests.enrollment.helpers import open_course, people

pytestmark = pytest.mark.django_db


def test_emails_are_sent_only_after_commit(mailoutbox, django_capture_on_commit_callbacks):
    course = open_course()
    (user,) = people(1)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enroll_participant(user=user, course=course)
    assert mailoutbox == []  # nothing leaves before the transaction commits
    for callback in callbacks:
        callback()
    assert len(mailoutbox) == 1


def test_confirmation_email_is_italian_with_text_html_and_ics(
    mailoutbox, django_capture_on_commit_callbacks
):
    course = open_course()
    (user,) = people(1)
    with django_capture_on_commit_callbacks(execute=True):
        enroll_participant(user=user, course=course)
    (message,) = mailoutbox
    assert message.subject.startswith("Iscrizione confermata")
    assert "è confermata" in message.body
    assert message.alternatives[0][1] == "text/html"
    (name, content, mimetype) = message.attachments[0]
    assert name.endswith(".ics") and mimetype == "text/calendar"
    text = content if isinstance(content, str) else content.decode()
    assert "BEGIN:VEVENT" in text and "LOCATION:Viale Piceno 60" in text
    assert Notification.objects.get().status == Notification.Status.SENT


def test_request_and_waitlist_emails(mailoutbox, django_capture_on_commit_callbacks):
    course = open_course(capacity=1, requires_approval=True)
    a, b = people(2)
    with django_capture_on_commit_callbacks(execute=True):
        enroll_participant(user=a, course=course)
        enroll_participant(user=b, course=course)
    subjects = [m.subject for m in mailoutbox]
    assert subjects[0].startswith("Richiesta di iscrizione ricevuta")
    assert "La partecipazione verrà confermata tramite mail" in mailoutbox[0].body
    assert subjects[1].startswith("Sei in lista d'attesa")
    assert not mailoutbox[0].attachments  # no calendar until the seat is confirmed


def test_task_delivered_twice_sends_once(mailoutbox):
    course = open_course()
    (user,) = people(1)
    enroll_participant(user=user, course=course)  # callbacks not run: the e-mail is pending
    notification = Notification.objects.get()
    assert send_notification_task.apply(args=[notification.pk]).get() is True
    assert send_notification_task.apply(args=[notification.pk]).get() is False
    assert len(mailoutbox) == 1


def test_smtp_failure_is_recorded_and_retried_not_lost(mailoutbox, monkeypatch):
    course = open_course()
    (user,) = people(1)
    enroll_participant(user=user, course=course)
    notification = Notification.objects.get()

    def down(self, messages):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", down)
    with pytest.raises(TransientEmailError):
        send_notification(notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.status == Notification.Status.PENDING
    assert notification.attempts == 1
    retried = []
    monkeypatch.setattr(send_notification_task, "retry", lambda **kw: retried.append(kw) or Retry())
    with pytest.raises(Retry):
        send_notification_task.run(notification.pk)
    assert retried and retried[0]["countdown"] == 1  # 2 ** (retries * 2) with retries = 0
    monkeypatch.undo()
    assert send_notification(notification_id=notification.pk) is True
    assert len(mailoutbox) == 1


def test_permanent_smtp_rejection_is_marked_failed(monkeypatch):
    course = open_course()
    (user,) = people(1)
    enroll_participant(user=user, course=course)
    notification = Notification.objects.get()

    def refuse(self, messages):
        raise smtplib.SMTPDataError(550, b"mailbox unavailable")

    monkeypatch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", refuse)
    assert send_notification(notification_id=notification.pk) is False
    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert notification.last_error == "SMTP 550"


def test_outbox_flush_sends_what_was_left_pending(mailoutbox):
    course = open_course()
    a, b = people(2)
    enroll_participant(user=a, course=course)
    enroll_participant(user=b, course=course)
    assert flush_outbox_task.apply(kwargs={"older_than_seconds": -1}).get() == 2
    assert len(mailoutbox) == 2
    assert flush_outbox_task.apply(kwargs={"older_than_seconds": -1}).get() == 0


def test_reminder_is_queued_once_per_participant(mailoutbox, django_capture_on_commit_callbacks):
    course = open_course()
    (user,) = people(1)
    enroll_participant(user=user, course=course)
    first = course.sessions.order_by("date").first().date
    from django.utils import timezone

    days = (first - timezone.localdate()).days
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_reminders(days_before=days) == 1
        assert queue_reminders(days_before=days) == 0
        assert queue_reminders(days_before=days + 1) == 0
    reminders = [m for m in mailoutbox if m.subject.startswith("Promemoria")]
    assert len(reminders) == 1


@pytest.mark.slow
def test_enrolment_succeeds_when_the_broker_is_down(client, django_capture_on_commit_callbacks):
    """Redis unreachable: the page answers, the e-mail waits in the outbox for the flush task."""
    from portal.celery import app

    course = open_course()
    (user,) = people(1)
    client.force_login(user)
    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:6399/0"  # nothing listens there
    app._pool = None
    app.amqp._producer_pool = None
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/courses/{course.slug}/enroll/")
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._pool = None
        app.amqp._producer_pool = None
    assert response.status_code == 302
    notification = Notification.objects.get()
    assert notification.enrollment.status == "confirmed"
    assert notification.status == Notification.Status.PENDING
