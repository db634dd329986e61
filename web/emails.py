"""The e-mail that forwards an accessibility report to the secretariat, sent at most once."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from core.mail import build_email, recipient_language
from portal.celery import app
from web.models import AccessibilityFeedback

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 7
Status = AccessibilityFeedback.EmailStatus


class TransientEmailError(Exception):
    """The mail server could not take the message now; try again later."""


def send_accessibility_feedback(*, feedback_id: int) -> bool:
    """Forward the report to the secretariat once; True if this call sent it.

    The row stays locked while the message goes out, so a task delivered twice waits and then
    finds it sent.
    """
    transient: Exception | None = None
    with transaction.atomic():
        feedback = AccessibilityFeedback.objects.select_for_update().filter(pk=feedback_id).first()
        if feedback is None or feedback.email_status != Status.PENDING:
            return False
        feedback.email_attempts += 1
        language = settings.LANGUAGE_CODE
        with recipient_language(language):
            message = build_email(
                to=settings.PORTAL_SECRETARIAT_EMAIL,
                subject=gettext("Segnalazione sull'accessibilità del sito"),
                template="web/email/accessibility_feedback",
                context={"feedback": feedback},
                language=language,
                # The secretariat answers the person who wrote.
                reply_to=feedback.email,
            )
        try:
            message.send()
        except (smtplib.SMTPException, OSError) as exc:
            code = getattr(exc, "smtp_code", 0)
            if code >= 500 or feedback.email_attempts >= MAX_ATTEMPTS:
                feedback.email_status = Status.FAILED
            else:
                transient = exc
        else:
            feedback.email_status = Status.SENT
            feedback.emailed_at = timezone.now()
        feedback.save(update_fields=["email_status", "email_attempts", "emailed_at"])
    if feedback.email_status == Status.FAILED:
        logger.warning("accessibility feedback %s not forwarded to the secretariat", feedback_id)
    if transient is not None:
        raise TransientEmailError(type(transient).__name__) from transient
    return feedback.email_status == Status.SENT


def list_pending_feedback_ids(*, older_than: dt.timedelta, limit: int = 100) -> list[int]:
    """Reports still to forward, e.g. received while the broker was down."""
    cutoff = timezone.now() - older_than
    return list(
        AccessibilityFeedback.objects.filter(email_status=Status.PENDING, created_at__lt=cutoff)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# Defined here, next to the sending it runs, so that services can queue it without importing
# web.tasks (which imports services); the name is the one the other tasks of the app have.
@app.task(
    name="web.tasks.send_accessibility_feedback_task",
    bind=True,
    acks_late=True,
    max_retries=MAX_ATTEMPTS - 1,
    ignore_result=True,
)
def send_accessibility_feedback_task(self, feedback_id: int) -> bool:
    """Forward an accessibility report to the secretariat; retried while SMTP is down."""
    try:
        return send_accessibility_feedback(feedback_id=feedback_id)
    except TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries * 2)) from exc
