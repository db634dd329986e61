"""The "your certificate is ready" e-mail, sent at most once per certificate."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from certificates.formatting import format_hours, long_date
from certificates.models import Certificate

logger = logging.getLogger(__name__)


def build_ready_message(certificate: Certificate) -> EmailMultiAlternatives:
    """Text and HTML parts in the recipient's language; no attachment (downloads need a login)."""
    enrollment = certificate.enrollment
    user, course = enrollment.user, enrollment.course
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {
            "user": user,
            "course": course,
            "certificate": certificate,
            "hours": format_hours(certificate.attended_minutes, certificate.total_minutes),
            "issued_on": long_date(timezone.localtime(certificate.issued_at).date()),
            "mine_url": settings.SITE_URL + reverse("certificates:mine"),
            "verify_url": settings.SITE_URL
            + reverse("certificates:verify_code", kwargs={"code": certificate.code}),
            "organiser": settings.PORTAL_ORGANISER,
            "secretariat_email": settings.PORTAL_SECRETARIAT_EMAIL,
        }
        subject = gettext("Attestato disponibile: %(code)s – %(title)s") % {
            "code": course.code,
            "title": course.title,
        }
        text = render_to_string("certificates/email/ready.txt", context)
        html = render_to_string("certificates/email/ready.html", context)
    message = EmailMultiAlternatives(
        subject=subject, body=text, to=[user.email], reply_to=[settings.PORTAL_SECRETARIAT_EMAIL]
    )
    message.attach_alternative(html, "text/html")
    return message


def send_certificate_ready(*, certificate_id: int) -> bool:
    """Send the e-mail once; True if this call sent it.

    The row stays locked while the message goes out, so a task delivered twice waits here and
    then finds notified_at already set. Transient SMTP errors propagate (the task retries);
    a permanent refusal (5xx) is recorded and not retried.
    """
    with transaction.atomic():
        certificate = (
            Certificate.objects.select_for_update(of=("self",))
            .select_related("enrollment__user", "enrollment__course")
            .filter(pk=certificate_id)
            .first()
        )
        if (
            certificate is None
            or certificate.notified_at is not None
            or certificate.status != Certificate.Status.VALID
        ):
            return False
        try:
            build_ready_message(certificate).send()
        except (smtplib.SMTPResponseException, smtplib.SMTPRecipientsRefused) as exc:
            code = getattr(exc, "smtp_code", 550)
            if code < 500:
                raise
            certificate.notification_error = f"SMTP {code}"
            certificate.save(update_fields=["notification_error"])
            logger.warning("certificate %s e-mail refused: SMTP %s", certificate_id, code)
            return False
        certificate.notified_at = timezone.now()
        certificate.notification_error = ""
        certificate.save(update_fields=["notified_at", "notification_error"])
    return True
