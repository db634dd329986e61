from __future__ import annotations

import smtplib

from django.db import OperationalError

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
def issue_certificate_if_eligible_task(self, enrollment_id: int) -> int | None:  # noqa: ANN001
    """Issue the enrolment's certificate if it is due (idempotent); the certificate's id."""
    from certificates.services import issue_certificate_if_eligible

    certificate = issue_certificate_if_eligible(enrollment_id=enrollment_id)
    return certificate.pk if certificate else None


@app.task(
    bind=True,
    acks_late=True,
    max_retries=6,
    ignore_result=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=4,
    retry_backoff_max=60 * 60,
)
def send_certificate_ready_task(self, certificate_id: int) -> bool:  # noqa: ANN001
    """E-mail the participant that the certificate is ready; retried while SMTP is down."""
    from certificates.emails import send_certificate_ready

    return send_certificate_ready(certificate_id=certificate_id)


@app.task(ignore_result=True)
def queue_due_certificates_task(within_days: int = 60) -> int:
    """Periodic (Celery beat): issue certificates that became due after the course ended."""
    from certificates.services import queue_due_certificates

    return queue_due_certificates(within_days=within_days)
