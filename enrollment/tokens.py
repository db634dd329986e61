"""Signed tokens bound to one enrolment: the one-click link that gives a seat back (sent in the
promotion e-mail) and the personal QR code shown at the venue."""

from __future__ import annotations

from django.core import signing
from django.utils.translation import gettext_lazy as _

from enrollment.errors import EnrollmentError
from enrollment.models import Enrollment

GIVE_BACK_SALT = "enrollment.give-back"
GIVE_BACK_MAX_AGE = 60 * 60 * 24 * 120  # seconds


def _enrollment_version(enrollment: Enrollment) -> int:
    # Changes when the person enrols again (created_at is reset), so a link from an earlier
    # promotion, or an earlier QR code, stops working.
    return int(enrollment.created_at.timestamp() * 1_000_000)


def make_give_back_token(enrollment: Enrollment) -> str:
    return signing.dumps(
        {"e": enrollment.pk, "u": enrollment.user_id, "v": _enrollment_version(enrollment)},
        salt=GIVE_BACK_SALT,
    )


def enrollment_from_give_back_token(token: str) -> Enrollment:
    """The enrolment a give-back link is for; EnrollmentError if it is forged, expired or
    from before the person enrolled again."""
    try:
        data = signing.loads(token, salt=GIVE_BACK_SALT, max_age=GIVE_BACK_MAX_AGE)
    except signing.BadSignature as exc:
        raise EnrollmentError(_("Il link non è valido.")) from exc
    enrollment = (
        Enrollment.objects.select_related("course", "user")
        .filter(pk=data.get("e"), user_id=data.get("u"))
        .first()
    )
    if enrollment is None:
        raise EnrollmentError(_("Il link non è valido."))
    if data.get("v") != _enrollment_version(enrollment):
        raise EnrollmentError(
            _(
                "Questo link non vale più: ti sei iscritto di nuovo al corso. Per annullare "
                "l'iscrizione usa la pagina «Le mie iscrizioni»."
            )
        )
    return enrollment


# The personal code shown at the venue (QR). It never expires by itself: it stops working when
# the enrolment is cancelled (checked at scan time) or made again (the version changes).
CHECK_IN_SALT = "enrollment.check-in"


def make_check_in_token(enrollment: Enrollment) -> str:
    """The signed token in a participant's QR code: the enrolment and its version, no name."""
    return signing.dumps(
        {"e": enrollment.pk, "v": _enrollment_version(enrollment)}, salt=CHECK_IN_SALT
    )


def enrollment_from_check_in_token(token: str) -> Enrollment:
    """The enrolment a scanned code is for; EnrollmentError if it is forged or from before the
    person enrolled again. Whether the enrolment is still confirmed is the caller's check."""
    try:
        data = signing.loads(token, salt=CHECK_IN_SALT)
    except signing.BadSignature as exc:
        raise EnrollmentError(_("Il codice QR non è valido.")) from exc
    if not isinstance(data, dict) or not isinstance(data.get("e"), int):
        raise EnrollmentError(_("Il codice QR non è valido."))
    enrollment = Enrollment.objects.select_related("course", "user").filter(pk=data["e"]).first()
    if enrollment is None:
        raise EnrollmentError(_("Il codice QR non è valido."))
    if data.get("v") != _enrollment_version(enrollment):
        raise EnrollmentError(
            _(
                "Il codice QR non vale più: la persona si è iscritta di nuovo al corso e ha "
                "ricevuto un nuovo codice."
            )
        )
    return enrollment
