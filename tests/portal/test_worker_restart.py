"""A Celery worker killed in the middle of a task: after a restart every e-mail is sent exactly
once and every certificate exists exactly once (acks_late + idempotent tasks), on real
PostgreSQL and Redis."""

from __future__ import annotations

import datetime as dt
import email
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection
from django.utils import timezone

from attendance.models import Source
from attendance.services import record_attendance
from certificates.models import Certificate
from enrollment.models import Notification
from enrollment.services import enroll_participant
from tests.enrollment.helpers import open_course, people
from tests.factories import CourseFactory, EnrollmentFactory, SessionFactory
from tests.questionnaire.factories import CompletionFactory

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "prefork",
         "--concurrency", "1", "--without-heartbeat", "--without-gossip", "--without-mingle",
         "-l", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_resends_nothing_twice_and_loses_nothing(tmp_path):
    redis_url = os.environ.get("REDIS_URL")
    if not redis_url:
        pytest.skip("needs REDIS_URL (CI sets it)")
    # given: three enrolment e-mails in the outbox and one participant due a certificate
    course = open_course()
    for user in people(3):
        enroll_participant(user=user, course=course)
    ended = CourseFactory(sessions=0)
    for days_ago in (14, 7):
        SessionFactory(course=ended, date=timezone.localdate() - dt.timedelta(days=days_ago))
    due = EnrollmentFactory(course=ended)
    for session in ended.sessions.all():
        record_attendance(
            enrollment=due, session=session, minutes=session.minutes, recorded_by=None,
            source=Source.ADMIN,
        )  # fmt: skip
    CompletionFactory(enrollment=due)
    # The test process runs tasks eagerly, so those e-mails went out already; put them back in
    # the state of an outbox whose tasks are still queued (e.g. sent while Redis was down).
    Notification.objects.update(status=Notification.Status.PENDING, sent_at=None, attempts=0)
    notification_ids = list(Notification.objects.values_list("pk", flat=True))
    assert len(notification_ids) == 3

    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "REDIS_URL": redis_url,
        "VAR_DIR": str(tmp_path / "var"),
        "EMAIL_BACKEND": "tests.support.slow_email.SlowFileBackend",
        "MAIL_DIR": str(mail_dir),
        "CELERY_VISIBILITY_TIMEOUT": "3",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "PYTHONPATH": str(ROOT),
    }
    producer = Celery(broker=redis_url)
    producer.conf.broker_transport_options = {"visibility_timeout": 3}
    subprocess.run(["redis-cli", "-u", redis_url, "flushdb"], capture_output=True, check=False)
    for pk in notification_ids:
        producer.send_task("enrollment.tasks.send_notification_task", args=[pk])
    producer.send_task("certificates.tasks.issue_certificate_if_eligible_task", args=[due.pk])

    # when: the first worker is killed while the first e-mail is being sent
    first = _worker({**env, "SLOW_EMAIL_SECONDS": "30"}, tmp_path / "worker1.log")
    try:
        _wait(lambda: any(mail_dir.glob("sending-*")), 60, "the first send to start")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert not list(mail_dir.glob("sent-*"))  # it died before the message went out

    # then: a new worker delivers the interrupted task again and everything completes once
    second = _worker({**env, "SLOW_EMAIL_SECONDS": "0"}, tmp_path / "worker2.log")
    try:

        def done() -> bool:
            sent = Notification.objects.filter(pk__in=notification_ids, status="sent").count()
            certificate = Certificate.objects.filter(enrollment=due, notified_at__isnull=False)
            return sent == 3 and certificate.exists()

        # The broker hands the interrupted task out again once its visibility timeout has
        # passed (checked by the worker every second here).
        _wait(done, 60, "every e-mail and the certificate")
        time.sleep(4)  # past the visibility timeout: any duplicate delivery would show now
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)

    recipients = [
        email.message_from_bytes(p.read_bytes())["To"] for p in sorted(mail_dir.glob("sent-*"))
    ]
    expected = [
        n.enrollment.user.email for n in Notification.objects.filter(pk__in=notification_ids)
    ]
    assert sorted(recipients) == sorted([*expected, due.user.email])  # each exactly once
    assert Certificate.objects.filter(enrollment=due).count() == 1
    assert Notification.objects.get(pk=notification_ids[0]).attempts >= 1
