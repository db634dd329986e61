"""The "your certificate is ready" e-mail, sent at most once per certificate."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from certificates.formatting import format_hours
from certificates.models import Certificate, NotificationStatus
from core.formatting import long_date
from core.mail import build_email, recipient_language
from portal.celery import app

logger = logging.getLogger(__name__)


def build_ready_message(certificate: Certificate) -> EmailMultiAlternatives:
    """Text and HTML parts in the recipient's language; no attachment (downloads need a login)."""
    enrollment = certificate.enrollment
    user, course = enrollment.user, enrollment.course
    with recipient_language(user.language):
        return build_email(
            to=user.email,
            subject=gettext("Attestato disponibile: %(code)s – %(title)s")
            % {"code": course.code, "title": course.title},
            template="certificates/email/ready",
            context={
                "user": user,
                "course": course,
                "certificate": certificate,
                "hours": format_hours(certificate.attended_minutes, certificate.total_minutes),
                "issued_on": long_date(timezone.localtime(certificate.issued_at).date()),
                "mine_url": settings.SITE_URL + reverse("certificates:mine"),
                "verify_url": settings.SITE_URL
                + reverse("certificates:verify_code", kwargs={"code": certificate.code}),
            },
            language=user.language,
        )


class TransientEmailError(Exception):
    """The mail server could not take the message now; try again later."""


# Attempts before the e-mail is given up and listed for the secretariat.
MAX_ATTEMPTS = 7


def send_certificate_ready(*, certificate_id: int) -> bool:
    """Send the e-mail once; True if this call sent it.

    The certificate row is the outbox entry. It stays locked while the message goes out, so a
    task delivered twice waits here and then finds the e-mail already sent. A transient failure
    raises TransientEmailError (the caller retries) until MAX_ATTEMPTS, then the e-mail is
    marked failed; a permanent refusal (5xx) is marked failed at once.
    """
    transient: Exception | None = None
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("enrollment__user", "enrollment__course")
            .filter(pk=certificate_id)
            .first()
        )
        if (
            certificate is None
            or certificate.notification_status != NotificationStatus.PENDING
            or certificate.status != Certificate.Status.VALID
        ):
            return False
        certificate.notification_attempts += 1
        try:
            build_ready_message(certificate).send()
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            code = getattr(exc, "smtp_code", 550)
            certificate.notification_error = f"SMTP {code}"
            if code >= 500:
                certificate.notification_status = NotificationStatus.FAILED
            else:
                transient = exc
        except (smtplib.SMTPException, OSError) as exc:
            certificate.notification_error = type(exc).__name__[:255]
            transient = exc
        else:
            certificate.notification_status = NotificationStatus.SENT
            certificate.notified_at = timezone.now()
            certificate.notification_error = ""
        if transient is not None and certificate.notification_attempts >= MAX_ATTEMPTS:
            certificate.notification_status = NotificationStatus.FAILED
            transient = None
        certificate.save(
            update_fields=[
                "notification_status",
                "notification_attempts",
                "notified_at",
                "notification_error",
            ]
        )
    if certificate.notification_status == NotificationStatus.FAILED:
        logger.warning(
            "certificate %s e-mail failed for good: %s",
            certificate_id,
            certificate.notification_error,
        )
    if transient is not None:
        raise TransientEmailError(certificate.notification_error) from transient
    return certificate.notification_status == NotificationStatus.SENT


# Defined here, next to the sending it runs, so that services can queue it without importing
# certificates.tasks (which imports services); the name stays the one workers already know.
@app.task(
    name="certificates.tasks.send_certificate_ready_task",
    bind=True,
    acks_late=True,
    max_retries=MAX_ATTEMPTS - 1,
    ignore_result=True,
)
def send_certificate_ready_task(self, certificate_id: int) -> bool:
    """E-mail the participant that the certificate is ready; retried while SMTP is down."""
    try:
        return send_certificate_ready(certificate_id=certificate_id)
    except TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries * 2)) from exc
