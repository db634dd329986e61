"""Building and sending the participant e-mails recorded in the outbox (Notification)."""

from __future__ import annotations

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.mail import build_email, recipient_language
from courses.calendar import course_to_ics
from enrollment.models import Enrollment, Notification

logger = logging.getLogger(__name__)
Kind = Notification.Kind


class TransientEmailError(Exception):
    """The mail server could not take the message now; try again later."""


def _texts(notification: Notification) -> tuple[str, list[str]]:
    enrollment = notification.enrollment
    course = enrollment.course
    title = f"{course.code} – {course.title}"
    kind = notification.kind
    if kind == Kind.REQUEST_RECEIVED:
        return _("Richiesta di iscrizione ricevuta: %(title)s") % {"title": title}, [
            _("abbiamo ricevuto la tua richiesta di iscrizione al corso «%(title)s».")
            % {"title": course.title},
            _("La partecipazione verrà confermata tramite mail dalla segreteria."),
        ]
    if kind == Kind.CONFIRMED:
        return _("Iscrizione confermata: %(title)s") % {"title": title}, [
            _("la tua iscrizione al corso «%(title)s» è confermata.") % {"title": course.title},
            _("In allegato trovi il calendario delle giornate da importare nella tua agenda."),
        ]
    if kind == Kind.WAITLISTED:
        return _("Sei in lista d'attesa: %(title)s") % {"title": title}, [
            _("i posti del corso «%(title)s» sono esauriti: sei in lista d'attesa.")
            % {"title": course.title},
            _(
                "Se si libera un posto ti verrà assegnato automaticamente, in ordine di arrivo, e "
                "riceverai una mail."
            ),
        ]
    if kind == Kind.PROMOTED:
        status_line = (
            _("La segreteria confermerà la tua partecipazione tramite mail.")
            if enrollment.status == Enrollment.Status.REQUESTED
            else _("La tua iscrizione è confermata.")
        )
        return _("Si è liberato un posto per te: %(title)s") % {"title": title}, [
            _(
                "si è liberato un posto nel corso «%(title)s» e ti è stato assegnato dalla lista "
                "d'attesa."
            )
            % {"title": course.title},
            status_line,
            _(
                "Se non puoi più partecipare, restituisci il posto con il link qui sotto: passerà "
                "alla prossima persona in lista."
            ),
        ]
    if kind == Kind.REJECTED:
        return _("Richiesta di iscrizione non accolta: %(title)s") % {"title": title}, [
            _("la tua richiesta di iscrizione al corso «%(title)s» non è stata accolta.")
            % {"title": course.title},
            _("Per informazioni puoi scrivere alla segreteria organizzativa."),
        ]
    if kind == Kind.CANCELLED:
        return _("Iscrizione annullata: %(title)s") % {"title": title}, [
            _("la tua iscrizione al corso «%(title)s» è stata annullata.")
            % {"title": course.title},
        ]
    return _("Promemoria: %(title)s") % {"title": title}, [
        _("ti ricordiamo che il corso «%(title)s» inizia a breve.") % {"title": course.title},
    ]


def build_message(notification: Notification) -> EmailMultiAlternatives:
    """The e-mail for a notification, in the recipient's language, with text and HTML parts."""
    from enrollment.services import make_give_back_token

    enrollment = notification.enrollment
    user, course = enrollment.user, enrollment.course
    with recipient_language(user.language):
        subject, paragraphs = _texts(notification)
        message = build_email(
            to=user.email,
            subject=subject,
            template="enrollment/email/notification",
            context={
                "user": user,
                "course": course,
                "paragraphs": paragraphs,
                "sessions": list(course.sessions.order_by("date", "start")),
                "course_url": settings.SITE_URL + course.get_absolute_url(),
                "my_url": settings.SITE_URL + reverse("enrollment:mine"),
                "give_back_url": (
                    settings.SITE_URL
                    + reverse("enrollment:give_back", args=[make_give_back_token(enrollment)])
                    if notification.kind == Kind.PROMOTED
                    else ""
                ),
            },
            language=user.language,
        )
    if notification.kind in (Kind.CONFIRMED, Kind.PROMOTED, Kind.REMINDER) and (
        enrollment.status == Enrollment.Status.CONFIRMED
    ):
        filename = f"{course.file_stem}.ics"
        message.attach(filename, course_to_ics(course), "text/calendar")
    return message


def send_notification(*, notification_id: int) -> bool:
    """Send one outbox e-mail at most once; True if it was sent by this call.

    The row stays locked while the message goes out, so a task delivered twice waits here and
    then finds the status already set to sent.
    """
    transient: Exception | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("enrollment__user", "enrollment__course")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.status != Notification.Status.PENDING:
            return False
        notification.attempts += 1
        try:
            build_message(notification).send()
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                notification.status = Notification.Status.FAILED
            else:
                transient = exc
            notification.last_error = f"SMTP {exc.smtp_code}"
        except (smtplib.SMTPException, OSError) as exc:
            transient = exc
            notification.last_error = type(exc).__name__
        else:
            notification.status = Notification.Status.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
        notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if notification.status == Notification.Status.FAILED:
        logger.warning(
            "notification %s failed permanently: %s", notification_id, notification.last_error
        )
    if transient is not None:
        raise TransientEmailError(str(notification.last_error)) from transient
    return notification.status == Notification.Status.SENT
