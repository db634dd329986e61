"""Building the participant e-mails recorded in the outbox (Notification); sending them is
`enrollment.services.send_notification`."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils.translation import gettext as _

from core.mail import build_email, recipient_language
from courses.calendar import course_to_ics
from courses.selectors import get_course_schedule
from enrollment.check_in import check_in_qr_png
from enrollment.models import Enrollment, Notification
from enrollment.rules import has_check_in_code
from enrollment.tokens import make_give_back_token

Kind = Notification.Kind


def _check_in_code_line() -> str:
    return _(
        "Trovi in allegato anche il tuo codice QR personale: mostralo alla segreteria "
        "all'entrata e all'uscita di ogni giornata in aula. È anche nella pagina «Le mie "
        "iscrizioni», da dove puoi stamparlo."
    )


def _with_check_in_code(enrollment: Enrollment) -> bool:
    schedule = get_course_schedule(enrollment.course)
    return has_check_in_code(
        enrollment, meets_in_person=schedule.meets_in_person, ended=schedule.has_ended()
    )


def _texts(notification: Notification, *, with_code: bool) -> tuple[str, list[str]]:
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
            *([_check_in_code_line()] if with_code else []),
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
    enrollment = notification.enrollment
    user, course = enrollment.user, enrollment.course
    with recipient_language(user.language):
        with_code = _with_check_in_code(enrollment)
        subject, paragraphs = _texts(notification, with_code=with_code)
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
        enrollment.is_confirmed
    ):
        filename = f"{course.file_stem}.ics"
        message.attach(filename, course_to_ics(course), "text/calendar")
        if with_code:
            message.attach(f"qr-{course.file_stem}.png", check_in_qr_png(enrollment), "image/png")
    return message
