"""Who may enrol in a course: pure checks over a profile and a course, no database writes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from accounts.models import OrganisationType, Profession, Profile
from courses.models import Course
from enrollment.models import Enrollment


def eligibility_problem(profile: Profile | None, course: Course) -> str | None:
    """Why this profile may not take part in this course, or None if it may."""
    if profile is None or not profile.is_complete:
        return str(_("Completa il tuo profilo per iscriverti."))
    if course.eligible_professions and profile.profession not in course.eligible_professions:
        allowed = ", ".join(str(Profession(p).label) for p in course.eligible_professions)
        return str(format_lazy(_("Il corso è riservato a: {}."), allowed))
    allowed_types = set(course.eligible_organisation_types)
    quota_types = {q.organisation_type for q in course.quotas.all()}
    if quota_types:
        allowed_types = allowed_types & quota_types if allowed_types else quota_types
    if allowed_types and profile.organisation_type not in allowed_types:
        labels = ", ".join(str(OrganisationType(t).label) for t in sorted(allowed_types))
        return str(format_lazy(_("Il corso è riservato al personale di: {}."), labels))
    if course.eligible_roles:
        role = profile.role.casefold()
        if not any(keyword.casefold() in role for keyword in course.eligible_roles):
            return str(
                format_lazy(
                    _("Il corso è riservato ai ruoli: {}. Il ruolo nel tuo profilo è «{}»."),
                    ", ".join(course.eligible_roles),
                    profile.role or "—",
                )
            )
    return None


def deadline_problem(course: Course, now: dt.datetime | None = None) -> str | None:
    if course.is_enrollment_open(now):
        return None
    return str(
        format_lazy(
            _("Le iscrizioni si sono chiuse il {} alle 23:59."),
            timezone.localtime(course.enrollment_closes_at - dt.timedelta(seconds=1)).strftime(
                "%d/%m/%Y"
            ),
        )
    )


def quota_key_for(profile: Profile, course: Course) -> str:
    """The quota a participant's seat comes from: their organisation type, if it has one."""
    if any(q.organisation_type == profile.organisation_type for q in course.quotas.all()):
        return profile.organisation_type
    return ""


def seat_is_free(
    *,
    capacity: int,
    quotas: Mapping[str, int],
    taken_total: int,
    taken_in_quota: int,
    quota_key: str,
) -> bool:
    """Whether one more seat can be given to a person of `quota_key`: the course's capacity and,
    if the person's organisation type has a quota, that quota too.

    `quotas` maps organisation type to seats. A quota that no longer exists (deleted in the admin)
    limits nothing: only the capacity counts.
    """
    if taken_total >= capacity:
        return False
    seats = quotas.get(quota_key) if quota_key else None
    return seats is None or taken_in_quota < seats


def reenrollment_problem(existing: Enrollment | None) -> str | None:
    """Why a person who already has a row in the course may not enrol, or None if they may
    (no row, or a cancelled one that comes back at the end of the queue)."""
    if existing is None:
        return None
    if existing.is_active:
        return str(_("Sei già iscritto a questo corso."))
    if existing.status == Enrollment.Status.REJECTED:
        return str(_("La tua richiesta per questo corso è stata respinta dalla segreteria."))
    return None


def cancellation_problem(
    enrollment: Enrollment, *, course_started: bool, by_secretariat: bool = False
) -> str | None:
    """Why this enrolment may not be cancelled, or None if it may: participants cancel only
    before the course starts; the secretariat also afterwards."""
    if not enrollment.is_active:
        return str(_("Questa iscrizione è già annullata o respinta."))
    if course_started and not by_secretariat:
        return str(_("Il corso è già iniziato: per annullare scrivi alla segreteria."))
    return None


def has_check_in_code(enrollment: Enrollment, *, meets_in_person: bool, ended: bool) -> bool:
    """A personal QR code for the room: for a confirmed enrolment in a course, not yet ended,
    with at least one session in presenza or mista (an online-only course has no door to check
    in at)."""
    return enrollment.is_confirmed and meets_in_person and not ended
