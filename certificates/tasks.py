from __future__ import annotations

import datetime as dt

from django.db import OperationalError
from django.utils import timezone

from certificates.emails import send_certificate_ready_task
from certificates.selectors import list_recently_ended_courses, list_unsent_certificate_ids
from certificates.services import (
    issue_certificate_if_eligible,
    list_due_enrollment_ids,
    upgrade_certificates_to_bt,
)
from courses.models import Course
from portal.celery import app

__all__ = [
    "flush_certificate_outbox_task",
    "issue_certificate_if_eligible_task",
    "queue_course_certificates",
    "queue_due_certificates",
    "queue_due_certificates_task",
    "send_certificate_ready_task",
    "upgrade_certificates_to_bt_task",
]


@app.task(
    bind=True,
    acks_late=True,
    max_retries=3,
    ignore_result=True,
    # A database hiccup is worth another try; the service is idempotent.
    autoretry_for=(OperationalError,),
    retry_backoff=5,
)
def issue_certificate_if_eligible_task(self, enrollment_id: int) -> int | None:
    """Issue the enrolment's certificate if it is due (idempotent); the certificate's id."""
    certificate = issue_certificate_if_eligible(enrollment_id=enrollment_id)
    return certificate.pk if certificate else None


def queue_course_certificates(*, course: Course) -> tuple[int, int]:
    """Queue issuing for every enrolment of a course that is due a certificate (the
    secretariat's "Emetti" button); (queued, due).

    Stops at the first enrolment the broker refuses: it is down, and the periodic task will
    issue the rest.
    """
    due = list_due_enrollment_ids(course=course)
    queued = 0
    for enrollment_id in due:
        # None: the broker is down (logged); don't wait for every remaining one.
        if issue_certificate_if_eligible_task.delay(enrollment_id) is None:
            break
        queued += 1
    return queued, len(due)


def queue_due_certificates(*, within_days: int = 60) -> int:
    """Queue issuing for every due enrolment of the courses ended recently (attendance
    finalised late, a broker outage, a questionnaire completed late); how many."""
    queued = 0
    for course in list_recently_ended_courses(now=timezone.now(), days=within_days):
        for enrollment_id in list_due_enrollment_ids(course=course):
            issue_certificate_if_eligible_task.delay(enrollment_id)
            queued += 1
    return queued


@app.task(ignore_result=True)
def flush_certificate_outbox_task(older_than_seconds: int = 120) -> int:
    """Periodic (Celery beat): send "certificate ready" e-mails still pending in the outbox."""
    ids = list_unsent_certificate_ids(older_than=dt.timedelta(seconds=older_than_seconds))
    for pk in ids:
        send_certificate_ready_task.delay(pk)
    return len(ids)


@app.task(ignore_result=True)
def queue_due_certificates_task(within_days: int = 60) -> int:
    """Periodic (Celery beat): issue certificates that became due after the course ended."""
    return queue_due_certificates(within_days=within_days)


@app.task(ignore_result=True)
def upgrade_certificates_to_bt_task(limit: int = 200) -> int:
    """Periodic (Celery beat): time-stamp certificates issued while the TSA was down."""
    return upgrade_certificates_to_bt(limit=limit)
