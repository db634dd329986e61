"""Reads of certificates, and the gate that decides who may get one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from uuid import UUID

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from attendance.selectors import AttendanceProgress, get_course_grid, get_progress
from certificates.formatting import normalise_code
from certificates.models import Certificate, CertificateChange, NotificationStatus, Seal
from core.formatting import format_duration, long_date
from courses.models import Course
from courses.selectors import get_course_end
from enrollment.models import Enrollment
from questionnaire.models import Completion
from questionnaire.selectors import has_completed

VALID = Certificate.Status.VALID


@dataclass(frozen=True)
class Eligibility:
    """Whether an enrolment earns a certificate now and, if not, what is still missing."""

    eligible: bool
    missing: list[str]
    progress: AttendanceProgress
    confirmed: bool
    course_ended: bool
    course_ends_at: dt.datetime | None
    questionnaire_completed: bool


def _missing_minutes_message(progress: AttendanceProgress) -> str:
    minutes = progress.missing_minutes
    # Italian agrees the verb with the first number: «manca 1 ora», «mancano 2 ore e 5 minuti».
    count = 1 if minutes in (1, 60) else 2
    return ngettext(
        "manca %(time)s di presenza per raggiungere la frequenza minima (%(percent)d%%)",
        "mancano %(time)s di presenza per raggiungere la frequenza minima (%(percent)d%%)",
        count,
    ) % {"time": format_duration(minutes), "percent": progress.threshold_percent}


def evaluate_eligibility(
    *,
    enrollment: Enrollment,
    progress: AttendanceProgress,
    questionnaire_completed: bool,
    course_ends_at: dt.datetime | None,
    now: dt.datetime | None = None,
) -> Eligibility:
    """The rule, on values already loaded (lets list pages evaluate many enrolments at once).

    Eligible = confirmed enrolment, course ended, attendance threshold met (attendance's
    meets_threshold, through its progress), questionnaire completed.
    """
    now = now or timezone.now()
    missing: list[str] = []
    confirmed = enrollment.is_confirmed
    if not confirmed:
        missing.append(gettext("l'iscrizione al corso non è confermata"))
    ended = course_ends_at is not None and now >= course_ends_at
    if course_ends_at is None:
        missing.append(gettext("il corso non ha ancora giornate in calendario"))
    elif not ended:
        missing.append(
            gettext("il corso termina il %(date)s")
            % {"date": long_date(timezone.localtime(course_ends_at).date())}
        )
    # Attendance is decided by threshold_met alone (attendance's rule, through build_progress).
    # With no sessions the calendar line above already says why; minutes would add nothing.
    if not progress.threshold_met and course_ends_at is not None:
        missing.append(_missing_minutes_message(progress))
    if not questionnaire_completed:
        missing.append(gettext("compila il questionario di gradimento"))
    user = enrollment.user
    if not (user.first_name.strip() and user.last_name.strip()):
        missing.append(gettext("indica nome e cognome nel tuo profilo"))
    return Eligibility(
        eligible=progress.threshold_met and not missing,
        missing=missing,
        progress=progress,
        confirmed=confirmed,
        course_ended=ended,
        course_ends_at=course_ends_at,
        questionnaire_completed=questionnaire_completed,
    )


def get_eligibility(enrollment: Enrollment, *, now: dt.datetime | None = None) -> Eligibility:
    """Whether this enrolment earns a certificate now, with what is missing, in Italian."""
    return evaluate_eligibility(
        enrollment=enrollment,
        progress=get_progress(enrollment),
        questionnaire_completed=has_completed(enrollment),
        course_ends_at=get_course_end(enrollment.course),
        now=now,
    )


# --- Certificates --------------------------------------------------------------------------------


def get_valid_certificate(enrollment: Enrollment) -> Certificate | None:
    return Certificate.objects.filter(enrollment_id=enrollment.pk, status=VALID).first()


def list_user_certificates(user_id: int) -> QuerySet[Certificate]:
    """The valid certificates of one user, newest first."""
    return (
        Certificate.objects.filter(enrollment__user_id=user_id, status=VALID)
        .select_related("enrollment__course")
        .order_by("-issued_at", "-pk")
    )


def get_user_certificate(*, user_id: int, token: UUID | str) -> Certificate | None:
    """A valid certificate by its download token, only if it belongs to this user."""
    return (
        Certificate.objects.filter(token=token, enrollment__user_id=user_id, status=VALID)
        .select_related("enrollment")
        .first()
    )


def get_certificate_by_code(code: str) -> Certificate | None:
    """Any version (valid or revoked) by its public verification code, as typed by a person."""
    normalised = normalise_code(code)
    if not normalised:
        return None
    return (
        Certificate.objects.filter(code=normalised)
        .select_related("enrollment__course", "replaced_by", "seal")
        .first()
    )


def get_certificate_by_sha256(sha256: str) -> Certificate | None:
    """The certificate whose current file, or a file it had before an upgrade, has this hash."""
    certificates = Certificate.objects.select_related("enrollment__course", "replaced_by", "seal")
    return (
        certificates.filter(sha256=sha256).first()
        or certificates.filter(previous_files__sha256=sha256).first()
    )


@dataclass(frozen=True)
class CourseCertificateRow:
    enrollment: Enrollment
    eligibility: Eligibility
    certificate: Certificate | None

    @property
    def needs_issuing(self) -> bool:
        return self.certificate is None and self.eligibility.eligible

    @property
    def email_failed(self) -> bool:
        return (
            self.certificate is not None
            and self.certificate.notification_status == NotificationStatus.FAILED
        )


@dataclass(frozen=True)
class CourseCertificates:
    course: Course
    rows: list[CourseCertificateRow]
    ends_at: dt.datetime | None

    @property
    def issued_count(self) -> int:
        return sum(1 for row in self.rows if row.certificate is not None)

    @property
    def to_issue_count(self) -> int:
        return sum(1 for row in self.rows if row.needs_issuing)

    @property
    def failed_email_rows(self) -> list[CourseCertificateRow]:
        """Participants whose "certificate ready" e-mail ran out of attempts."""
        return [row for row in self.rows if row.email_failed]


def get_course_certificates(
    course: Course, *, now: dt.datetime | None = None
) -> CourseCertificates:
    """Every confirmed participant with their certificate or what they miss, in a few queries."""
    grid = get_course_grid(course)
    ends_at = max((s.ends_at() for s in grid.sessions), default=None)
    ids = [row.enrollment.pk for row in grid.rows]
    completed = set(
        Completion.objects.filter(enrollment_id__in=ids).values_list("enrollment_id", flat=True)
    )
    certificates = {
        c.enrollment_id: c for c in Certificate.objects.filter(enrollment_id__in=ids, status=VALID)
    }
    rows = [
        CourseCertificateRow(
            enrollment=row.enrollment,
            eligibility=evaluate_eligibility(
                enrollment=row.enrollment,
                progress=row.progress,
                questionnaire_completed=row.enrollment.pk in completed,
                course_ends_at=ends_at,
                now=now,
            ),
            certificate=certificates.get(row.enrollment.pk),
        )
        for row in grid.rows
    ]
    return CourseCertificates(course=course, rows=rows, ends_at=ends_at)


def list_fcoas_certificates(course: Course) -> QuerySet[Certificate]:
    """Valid certificates of a course that award FCO.AS credits, by surname, profile loaded."""
    return (
        Certificate.objects.filter(enrollment__course=course, status=VALID, fcoas_awarded=True)
        .select_related("enrollment__user__profile")
        .order_by("holder_last_name", "holder_first_name", "pk")
    )


def list_recently_ended_courses(*, now: dt.datetime, days: int) -> list[Course]:
    """Courses whose last session ended in the last `days` days (for the periodic issuing)."""
    since = timezone.localdate(now) - dt.timedelta(days=days)
    courses = (
        Course.objects.filter(
            sessions__date__gte=since, sessions__date__lte=timezone.localdate(now)
        )
        .distinct()
        .prefetch_related("sessions")
    )
    result = []
    for course in courses:
        ends_at = get_course_end(course)
        if ends_at is not None and ends_at <= now and ends_at.date() >= since:
            result.append(course)
    return result


def list_unsent_certificate_ids(*, older_than: dt.timedelta, limit: int = 500) -> list[int]:
    """Valid certificates whose e-mail is still pending, e.g. queued while the broker was down."""
    cutoff = timezone.now() - older_than
    return list(
        Certificate.objects.filter(
            status=VALID, notification_status=NotificationStatus.PENDING, issued_at__lt=cutoff
        )
        .order_by("issued_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def list_course_changes(course: Course) -> QuerySet[CertificateChange]:
    """Re-issues and revocations of a course's certificates, newest first, for the secretariat."""
    return (
        CertificateChange.objects.filter(certificate__enrollment__course=course)
        .select_related("certificate", "replacement", "changed_by")
        .order_by("-changed_at", "-pk")
    )


def list_published_seals() -> list[Seal]:
    """Seals whose CA must stay published: those behind at least one valid certificate."""
    return list(
        Seal.objects.filter(certificates__status=VALID).distinct().order_by("not_before", "pk")
    )


def list_course_valid_certificates(course: Course) -> QuerySet[Certificate]:
    """A course's issued, valid certificates (revoked and replaced ones excluded), by surname."""
    return Certificate.objects.filter(enrollment__course=course, status=VALID).order_by(
        "holder_last_name", "holder_first_name", "serial"
    )


def list_not_downloaded_certificates(course: Course) -> QuerySet[Certificate]:
    """A course's valid certificates that their holder has not downloaded yet."""
    return list_course_valid_certificates(course).filter(first_downloaded_at__isnull=True)
