from __future__ import annotations

import datetime as dt

from django.db import OperationalError

from certificates.emails import MAX_ATTEMPTS
from portal.celery import app

ISSUE_TASK_NAME = "certificates.tasks.issue_certificate_if_eligible_task"


@app.task(
    name=ISSUE_TASK_NAME,
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
    from certificates.services import issue_certificate_if_eligible

    certificate = issue_certificate_if_eligible(enrollment_id=enrollment_id)
    return certificate.pk if certificate else None


@app.task(bind=True, acks_late=True, max_retries=MAX_ATTEMPTS - 1, ignore_result=True)
def send_certificate_ready_task(self, certificate_id: int) -> bool:
    """E-mail the participant that the certificate is ready; retried while SMTP is down."""
    from certificates.emails import TransientEmailError, send_certificate_ready

    try:
        return send_certificate_ready(certificate_id=certificate_id)
    except TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries * 2)) from exc


@app.task(ignore_result=True)
def flush_certificate_outbox_task(older_than_seconds: int = 120) -> int:
    """Periodic (Celery beat): send "certificate ready" e-mails still pending in the outbox."""
    from certificates.selectors import list_unsent_certificate_ids

    ids = list_unsent_certificate_ids(older_than=dt.timedelta(seconds=older_than_seconds))
    for pk in ids:
        send_certificate_ready_task.delay(pk)
    return len(ids)


@app.task(ignore_result=True)
def queue_due_certificates_task(within_days: int = 60) -> int:
    """Periodic (Celery beat): issue certificates that became due after the course ended."""
    from certificates.services import queue_due_certificates

    return queue_due_certificates(within_days=within_days)
