"""Reads of attendance, and the threshold rule that decides who may get a certificate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from attendance.models import Attendance, AttendanceChange, Scan
from courses.models import Course, Session
from courses.selectors import get_course_total_minutes, get_total_minutes
from enrollment.models import Enrollment
from enrollment.selectors import list_confirmed_enrollments


def meets_threshold(*, attended_minutes: int, total_minutes: int, percent: int) -> bool:
    """The attendance rule: at least `percent`% of the course's minutes, in integers.

    Integer arithmetic, so 576 of 720 minutes at 80% passes and 575 fails, with no rounding.
    A course with no sessions has nothing to attend, and nobody meets its threshold.
    """
    if total_minutes <= 0:
        return False
    return attended_minutes * 100 >= percent * total_minutes


def get_required_minutes(*, total_minutes: int, percent: int) -> int:
    """The fewest minutes that meet the threshold: ceil(percent × total / 100)."""
    return -(-percent * total_minutes // 100)


@dataclass(frozen=True)
class AttendanceProgress:
    attended_minutes: int
    total_minutes: int
    percent: float  # for display only; decisions use threshold_met
    threshold_percent: int
    threshold_met: bool
    missing_minutes: int

    @property
    def required_minutes(self) -> int:
        return get_required_minutes(
            total_minutes=self.total_minutes, percent=self.threshold_percent
        )

    @property
    def bar_percent(self) -> int:
        return min(int(self.percent), 100)


def build_progress(
    *, recorded_minutes: Iterable[int | None], total_minutes: int, threshold_percent: int
) -> AttendanceProgress:
    """The one place that adds up a participant's attended minutes (`recorded_minutes`: one
    value per recorded session, None for none) and applies the threshold to them."""
    attended_minutes = sum(minutes for minutes in recorded_minutes if minutes)
    required = get_required_minutes(total_minutes=total_minutes, percent=threshold_percent)
    # Rounded down to one decimal, so the displayed figure never reaches the threshold
    # while the rule says it is not met (575/720 shows 79.8, not 80.0).
    percent = (attended_minutes * 1000 // total_minutes) / 10 if total_minutes > 0 else 0.0
    return AttendanceProgress(
        attended_minutes=attended_minutes,
        total_minutes=total_minutes,
        percent=percent,
        threshold_percent=threshold_percent,
        threshold_met=meets_threshold(
            attended_minutes=attended_minutes,
            total_minutes=total_minutes,
            percent=threshold_percent,
        ),
        missing_minutes=max(required - attended_minutes, 0),
    )


def get_progress(enrollment: Enrollment) -> AttendanceProgress:
    """An enrolment's attended minutes against its course's total and threshold."""
    course = enrollment.course
    return build_progress(
        recorded_minutes=Attendance.objects.filter(
            enrollment=enrollment, session__course_id=enrollment.course_id
        ).values_list("minutes", flat=True),
        total_minutes=get_course_total_minutes(course),
        threshold_percent=course.attendance_threshold_percent,
    )


def get_attended_minutes(enrollment: Enrollment) -> int:
    """Minutes recorded for an enrolment over its course's sessions."""
    return get_progress(enrollment).attended_minutes


def list_course_sessions(course: Course) -> list[Session]:
    return list(Session.objects.filter(course=course).order_by("date", "start"))


@dataclass(frozen=True)
class SessionAttendance:
    session: Session
    attendance: Attendance | None

    @property
    def minutes(self) -> int:
        return self.attendance.minutes if self.attendance else 0


@dataclass(frozen=True)
class ParticipantAttendance:
    sessions: list[SessionAttendance]
    progress: AttendanceProgress


def get_participant_attendance(enrollment: Enrollment) -> ParticipantAttendance:
    """Per-session minutes and the progress of one enrolment, in two queries."""
    sessions = list_course_sessions(enrollment.course)
    rows = {
        a.session_id: a
        for a in Attendance.objects.filter(
            enrollment=enrollment, session__course_id=enrollment.course_id
        )
    }
    course = enrollment.course
    return ParticipantAttendance(
        sessions=[SessionAttendance(s, rows.get(s.pk)) for s in sessions],
        progress=build_progress(
            recorded_minutes=[a.minutes for a in rows.values()],
            total_minutes=get_total_minutes(sessions),
            threshold_percent=course.attendance_threshold_percent,
        ),
    )


@dataclass(frozen=True)
class GridRow:
    enrollment: Enrollment
    minutes: list[int | None]  # aligned with CourseGrid.sessions; None: not recorded
    progress: AttendanceProgress


@dataclass(frozen=True)
class CourseGrid:
    course: Course
    sessions: list[Session]
    rows: list[GridRow]
    total_minutes: int

    @property
    def required_minutes(self) -> int:
        return get_required_minutes(
            total_minutes=self.total_minutes, percent=self.course.attendance_threshold_percent
        )

    @property
    def met_count(self) -> int:
        return sum(1 for row in self.rows if row.progress.threshold_met)


def get_course_grid(course: Course) -> CourseGrid:
    """Confirmed participants × sessions with totals, in three queries whatever their number."""
    sessions = list_course_sessions(course)
    enrollments = list(list_confirmed_enrollments(course))
    recorded: dict[tuple[int, int], int] = {
        (enrollment_id, session_id): minutes
        for enrollment_id, session_id, minutes in Attendance.objects.filter(
            session__course=course, enrollment__course=course
        ).values_list("enrollment_id", "session_id", "minutes")
    }
    total = get_total_minutes(sessions)
    rows = []
    for enrollment in enrollments:
        cells = [recorded.get((enrollment.pk, s.pk)) for s in sessions]
        rows.append(
            GridRow(
                enrollment=enrollment,
                minutes=cells,
                progress=build_progress(
                    recorded_minutes=cells,
                    total_minutes=total,
                    threshold_percent=course.attendance_threshold_percent,
                ),
            )
        )
    return CourseGrid(course=course, sessions=sessions, rows=rows, total_minutes=total)


@dataclass(frozen=True)
class RegisterEntry:
    enrollment: Enrollment
    attendance: Attendance | None


def list_register_entries(session: Session) -> list[RegisterEntry]:
    """Every confirmed participant of the session's course with what is recorded, if anything."""
    enrollments = list(list_confirmed_enrollments(session.course))
    recorded = {a.enrollment_id: a for a in Attendance.objects.filter(session=session)}
    return [RegisterEntry(e, recorded.get(e.pk)) for e in enrollments]


def list_attendance_history(enrollment: Enrollment) -> QuerySet[AttendanceChange]:
    """Every audited change to an enrolment's attendance, newest first."""
    return (
        AttendanceChange.objects.filter(attendance__enrollment=enrollment)
        .select_related("attendance__session", "changed_by")
        .order_by("-changed_at", "-pk")
    )


def open_entries() -> QuerySet[Scan]:
    """Entries with no later scan of the same person in the same session: who is inside."""
    later = Scan.objects.filter(
        session=OuterRef("session"),
        enrollment=OuterRef("enrollment"),
        scanned_at__gt=OuterRef("scanned_at"),
    )
    return Scan.objects.filter(kind=Scan.Kind.ENTRY).exclude(Exists(later))


def list_inside(session: Session) -> QuerySet[Scan]:
    """The open entries of a session (one per person inside), by surname."""
    return (
        open_entries()
        .filter(session=session)
        .select_related("enrollment__user")
        .order_by("enrollment__user__last_name", "enrollment__user__first_name", "pk")
    )


def count_inside(session: Session) -> int:
    return open_entries().filter(session=session).values("enrollment").distinct().count()


def list_exits_to_confirm(session: Session) -> QuerySet[Scan]:
    """Exits closed automatically at the session's end that nobody has confirmed yet.

    An automatic exit counts only if it closes an entry: when a real exit scanned earlier
    reached the server after it (a device that was offline), it closes nothing and needs no
    confirmation.
    """
    previous_kind = (
        Scan.objects.filter(
            session=OuterRef("session"),
            enrollment=OuterRef("enrollment"),
            scanned_at__lt=OuterRef("scanned_at"),
        )
        .order_by("-scanned_at", "-pk")
        .values("kind")[:1]
    )
    return (
        Scan.objects.filter(session=session, automatic=True, confirmed_at__isnull=True)
        .annotate(previous_kind=Subquery(previous_kind))
        .filter(previous_kind=Scan.Kind.ENTRY)
        .select_related("enrollment__user")
        .order_by("enrollment__user__last_name", "enrollment__user__first_name", "pk")
    )


def search_session_participants(session: Session, query: str) -> list[Enrollment]:
    """Confirmed participants of the session's course whose surname contains `query` or whose
    codice fiscale is `query`; at most 20."""
    query = query.strip()
    if len(query) < 2:
        return []
    return list(
        list_confirmed_enrollments(session.course).filter(
            Q(user__last_name__icontains=query) | Q(user__profile__codice_fiscale__iexact=query)
        )[:20]
    )


def get_default_session(course: Course, today: dt.date | None = None) -> Session | None:
    """The session the scanning page opens on: today's (the first one still running), else the
    next one, else the last one."""
    today = today or timezone.localdate()
    sessions = list(course.sessions.order_by("date", "start"))
    todays = [s for s in sessions if s.date == today]
    if todays:
        now = timezone.localtime().time()
        return next((s for s in todays if s.end > now), todays[-1])
    upcoming = [s for s in sessions if s.date > today]
    if upcoming:
        return upcoming[0]
    return sessions[-1] if sessions else None
