"""Il libretto formativo: every course a participant attended, with hours, outcome, certificate
and FCO.AS credits, grouped by triennium.

Reads only (selectors): enrolments, attendance and certificates as they are stored. Credits
count once a valid certificate awards them, as that certificate states them (what the signed
document says); a course that declares credits the participant has not earned shows them as
declared, without counting them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Max, Prefetch, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from accounts.models import User
from attendance.models import Attendance
from attendance.selectors import build_progress
from certificates.formatting import format_hours
from certificates.models import Certificate
from certificates.pdf import render_html_pdf
from certificates.seal import get_signer
from certificates.selectors import evaluate_eligibility
from certificates.tsa import add_timestamp
from core.formatting import format_duration, long_date
from courses.models import Course, CreditKind, Session
from courses.selectors import CourseSchedule, get_course_schedule
from enrollment.models import Enrollment
from questionnaire.models import Completion

VALID = Certificate.Status.VALID
# Trienni of continuing education are fixed three-year periods: 2026–2028, 2029–2031, ...
FIRST_TRIENNIUM = 2026
TRIENNIUM_YEARS = 3


def triennium_start(year: int) -> int:
    """The first year of the triennium holding `year`: 2027 → 2026, 2029 → 2029."""
    return FIRST_TRIENNIUM + (year - FIRST_TRIENNIUM) // TRIENNIUM_YEARS * TRIENNIUM_YEARS


@dataclass(frozen=True)
class Triennium:
    start: int

    @property
    def end(self) -> int:
        return self.start + TRIENNIUM_YEARS - 1

    @property
    def label(self) -> str:
        return f"{self.start}–{self.end}"

    @property
    def years(self) -> range:
        return range(self.start, self.end + 1)


def get_triennium(day: dt.date) -> Triennium:
    return Triennium(triennium_start(day.year))


class Outcome:
    ISSUED = "issued"
    ISSUING = "issuing"
    NOT_MET = "not_met"
    IN_PROGRESS = "in_progress"


OUTCOME_LABELS = {
    Outcome.ISSUED: gettext_lazy("Attestato rilasciato"),
    Outcome.ISSUING: gettext_lazy("Attestato in emissione"),
    Outcome.NOT_MET: gettext_lazy("Requisiti non raggiunti"),
    Outcome.IN_PROGRESS: gettext_lazy("In corso"),
}


@dataclass(frozen=True)
class LibrettoEntry:
    """One course in the record, with everything already formatted for pages and files."""

    course: Course
    schedule: CourseSchedule
    triennium: Triennium
    attended_minutes: int
    total_minutes: int
    outcome: str
    certificate: Certificate | None
    declared_credits: int | None
    credits: int  # earned: stated by a valid certificate
    credit_kind: str

    @property
    def first_day(self) -> dt.date | None:
        return self.schedule.first_day

    @property
    def last_day(self) -> dt.date | None:
        return self.schedule.last_day

    @property
    def dates_text(self) -> str:
        if self.first_day is None or self.last_day is None:
            return ""
        if self.first_day == self.last_day:
            return long_date(self.first_day)
        return gettext("dal %(start)s al %(end)s") % {
            "start": long_date(self.first_day),
            "end": long_date(self.last_day),
        }

    @property
    def hours_text(self) -> str:
        return format_hours(self.attended_minutes, self.total_minutes)

    @property
    def outcome_label(self) -> str:
        return str(OUTCOME_LABELS[self.outcome])

    @property
    def is_certified(self) -> bool:
        return self.outcome == Outcome.ISSUED

    @property
    def is_in_progress(self) -> bool:
        return self.outcome == Outcome.IN_PROGRESS

    @property
    def credit_kind_label(self) -> str:
        return str(CreditKind(self.credit_kind).label) if self.credit_kind else ""


@dataclass(frozen=True)
class KindTotal:
    kind: str
    label: str
    credits: int


@dataclass
class TrienniumRecord:
    triennium: Triennium
    is_current: bool
    entries: list[LibrettoEntry] = field(default_factory=list)

    @property
    def credits(self) -> int:
        return sum(entry.credits for entry in self.entries)

    @property
    def attended_minutes(self) -> int:
        return sum(entry.attended_minutes for entry in self.entries)

    @property
    def attended_text(self) -> str:
        return format_duration(self.attended_minutes)

    @property
    def by_kind(self) -> list[KindTotal]:
        """Earned credits per kind, only for courses that declare the kind."""
        totals: dict[str, int] = defaultdict(int)
        for entry in self.entries:
            if entry.credit_kind and entry.credits:
                totals[entry.credit_kind] += entry.credits
        return [
            KindTotal(kind=kind.value, label=str(kind.label), credits=totals[kind.value])
            for kind in CreditKind
            if kind.value in totals
        ]


@dataclass(frozen=True)
class Libretto:
    user: User
    trienni: list[TrienniumRecord]  # newest first; the current one always present
    current: Triennium

    @property
    def entries(self) -> list[LibrettoEntry]:
        return [entry for record in self.trienni for entry in record.entries]


def _outcome(
    *,
    enrollment: Enrollment,
    schedule: CourseSchedule,
    certificate: Certificate | None,
    recorded: list[int],
    completed: bool,
    now: dt.datetime,
) -> str:
    if certificate is not None:
        return Outcome.ISSUED
    if not schedule.has_ended(now):
        return Outcome.IN_PROGRESS
    eligibility = evaluate_eligibility(
        enrollment=enrollment,
        progress=build_progress(
            recorded_minutes=recorded,
            total_minutes=schedule.total_minutes,
            threshold_percent=enrollment.course.attendance_threshold_percent,
        ),
        questionnaire_completed=completed,
        course_ends_at=schedule.ends_at,
        now=now,
    )
    return Outcome.ISSUING if eligibility.eligible else Outcome.NOT_MET


def get_libretto(*, user: User, now: dt.datetime | None = None) -> Libretto:
    """The participant's record: confirmed enrolments of courses that have started (ended ones
    and ongoing ones, marked as such), newest triennium first, in five queries."""
    now = now or timezone.now()
    enrollments = list(
        Enrollment.objects.filter(user_id=user.pk, status=Enrollment.Status.CONFIRMED)
        .select_related("course", "user")
        .prefetch_related(
            Prefetch("course__sessions", queryset=Session.objects.order_by("date", "start"))
        )
    )
    ids = [e.pk for e in enrollments]
    recorded: dict[int, list[int]] = defaultdict(list)
    for enrollment_id, course_id, session_course_id, minutes in Attendance.objects.filter(
        enrollment_id__in=ids
    ).values_list("enrollment_id", "enrollment__course_id", "session__course_id", "minutes"):
        if course_id == session_course_id:
            recorded[enrollment_id].append(minutes)
    certificates = {
        c.enrollment_id: c for c in Certificate.objects.filter(enrollment_id__in=ids, status=VALID)
    }
    completed = set(
        Completion.objects.filter(enrollment_id__in=ids).values_list("enrollment_id", flat=True)
    )
    current = get_triennium(timezone.localdate(now))
    records: dict[int, TrienniumRecord] = {
        current.start: TrienniumRecord(triennium=current, is_current=True)
    }
    for enrollment in enrollments:
        course = enrollment.course
        schedule = get_course_schedule(course)
        if schedule.last_day is None or not schedule.has_started(now):
            continue
        certificate = certificates.get(enrollment.pk)
        progress = build_progress(
            recorded_minutes=recorded[enrollment.pk],
            total_minutes=schedule.total_minutes,
            threshold_percent=course.attendance_threshold_percent,
        )
        triennium = get_triennium(schedule.last_day)
        entry = LibrettoEntry(
            course=course,
            schedule=schedule,
            triennium=triennium,
            # A certificate states the hours it certifies; the register may have moved since.
            attended_minutes=(
                certificate.attended_minutes if certificate else progress.attended_minutes
            ),
            total_minutes=certificate.total_minutes if certificate else progress.total_minutes,
            outcome=_outcome(
                enrollment=enrollment,
                schedule=schedule,
                certificate=certificate,
                recorded=recorded[enrollment.pk],
                completed=enrollment.pk in completed,
                now=now,
            ),
            certificate=certificate,
            declared_credits=course.fcoas_credits if course.grants_fcoas_credits else None,
            credits=(certificate.fcoas_credits or 0)
            if certificate and certificate.fcoas_awarded
            else 0,
            credit_kind=course.fcoas_credit_kind,
        )
        records.setdefault(
            triennium.start,
            TrienniumRecord(triennium=triennium, is_current=triennium == current),
        ).entries.append(entry)
    for record in records.values():
        record.entries.sort(key=lambda e: (e.last_day or dt.date.min, e.course.code), reverse=True)
    trienni = [records[start] for start in sorted(records, reverse=True)]
    return Libretto(user=user, trienni=trienni, current=current)


# --- Secretariat -----------------------------------------------------------------------------


def search_participants(query: str, *, limit: int = 50) -> QuerySet[User]:
    """People by name, surname, e-mail or codice fiscale (case-insensitive, in part)."""
    query = query.strip()
    if not query:
        return User.objects.none()
    condition = (
        Q(first_name__icontains=query)
        | Q(last_name__icontains=query)
        | Q(email__icontains=query)
        | Q(profile__codice_fiscale__iexact=query)
    )
    words = query.split()
    if len(words) > 1:
        # «Mario Rossi» or «Rossi Mario».
        condition |= Q(first_name__icontains=words[0], last_name__icontains=words[-1]) | Q(
            first_name__icontains=words[-1], last_name__icontains=words[0]
        )
    return (
        User.objects.filter(condition)
        .select_related("profile")
        .order_by("last_name", "first_name", "pk")[:limit]
    )


def list_triennium_credit_certificates(triennium: Triennium) -> list[Certificate]:
    """Valid certificates awarding FCO.AS credits for courses ended in the triennium, by
    surname, with the course loaded (its credit kind) and the course's last day annotated."""
    return list(
        Certificate.objects.filter(status=VALID, fcoas_awarded=True)
        .annotate(last_day=Max("enrollment__course__sessions__date"))
        .filter(
            last_day__gte=dt.date(triennium.start, 1, 1),
            last_day__lte=dt.date(triennium.end, 12, 31),
        )
        .select_related("enrollment__course")
        .order_by("holder_last_name", "holder_first_name", "codice_fiscale", "last_day", "pk")
    )


def get_credit_kind_label(course: Course) -> str:
    return str(CreditKind(course.fcoas_credit_kind).label) if course.fcoas_credit_kind else ""


# --- Files: CSV/JSON rows and the signed PDF summary -------------------------------------------


def _hours(minutes: int) -> float:
    return round(minutes / 60, 2)


def libretto_header() -> list[str]:
    """The CSV header, aligned with the keys of `libretto_rows`."""
    return [
        gettext("Triennio"),
        gettext("Codice del corso"),
        gettext("Corso"),
        gettext("Prima giornata"),
        gettext("Ultima giornata"),
        gettext("Ore frequentate"),
        gettext("Ore previste"),
        gettext("Esito"),
        gettext("Attestato n."),
        gettext("Verifica"),
        gettext("Crediti FCO.AS dichiarati"),
        gettext("Crediti FCO.AS riconosciuti"),
        gettext("Tipo di crediti"),
    ]


def libretto_rows(libretto: Libretto, *, verify_url: Callable[[str], str]) -> list[dict]:
    """One dict per course, the same values in the CSV and the JSON."""
    rows = []
    for entry in libretto.entries:
        certificate = entry.certificate
        rows.append(
            {
                "triennium": entry.triennium.label,
                "course_code": entry.course.code,
                "course_title": entry.course.title,
                "first_day": entry.first_day.isoformat() if entry.first_day else None,
                "last_day": entry.last_day.isoformat() if entry.last_day else None,
                "attended_hours": _hours(entry.attended_minutes),
                "planned_hours": _hours(entry.total_minutes),
                "outcome": entry.outcome_label,
                "certificate": certificate.serial if certificate else None,
                "verify_url": verify_url(certificate.code) if certificate else None,
                "declared_credits": entry.declared_credits,
                "credits": entry.credits,
                "credit_kind": entry.credit_kind_label or None,
            }
        )
    return rows


def libretto_totals(libretto: Libretto) -> list[dict]:
    return [
        {
            "triennium": record.triennium.label,
            "current": record.is_current,
            "attended_hours": _hours(record.attended_minutes),
            "credits": record.credits,
            "credits_by_kind": {total.label: total.credits for total in record.by_kind},
        }
        for record in libretto.trienni
    ]


def libretto_json(libretto: Libretto, *, verify_url: Callable[[str], str]) -> str:
    user = libretto.user
    profile = getattr(user, "profile", None)
    return json.dumps(
        {
            "participant": {
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "codice_fiscale": profile.codice_fiscale if profile else "",
            },
            "courses": libretto_rows(libretto, verify_url=verify_url),
            "trienni": libretto_totals(libretto),
        },
        ensure_ascii=False,
        indent=2,
    )


def render_libretto_pdf(libretto: Libretto, *, organiser: str, now: dt.datetime) -> bytes:
    """The record as a PDF/A-2u, in the certificate's style, in the holder's language."""
    user = libretto.user
    profile = getattr(user, "profile", None)
    language = user.language or settings.LANGUAGE_CODE
    with translation.override(language):
        html = render_to_string(
            "certificates/pdf/libretto.html",
            {
                "language": language,
                "libretto": libretto,
                "organiser": organiser,
                "holder_name": f"{user.first_name} {user.last_name}".strip(),
                "codice_fiscale": profile.codice_fiscale if profile else "",
                "generated_on": long_date(timezone.localtime(now).date()),
            },
        )
    return render_html_pdf(html)


def sign_libretto(libretto: Libretto, *, organiser: str, now: dt.datetime) -> bytes:
    """The summary as a CAdES `.pdf.p7m`, sealed by the signer of the certificates."""
    pdf = render_libretto_pdf(libretto, organiser=organiser, now=now)
    p7m = get_signer().sign(pdf, mime_type="application/pdf")
    # B-T like the certificates when the TSA answers; B-B otherwise (it is made on request).
    stamped = add_timestamp(p7m)
    return stamped[0] if stamped else p7m
