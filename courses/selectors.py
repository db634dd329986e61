from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Min, Prefetch, QuerySet, prefetch_related_objects
from django.utils import timezone

from core.formatting import format_duration
from courses.models import Course, ScheduleItem, Session, SessionMode


def list_catalogue() -> QuerySet[Course]:
    """Published courses with their sessions for dates and total hours (see `split_catalogue`
    for the order shown)."""
    return (
        Course.objects.published()
        .prefetch_related(Prefetch("sessions", queryset=Session.objects.order_by("date", "start")))
        .order_by("-enrollment_deadline", "code")
    )


def get_course_for_page(*, slug: str) -> Course:
    """One published course with its sessions and quotas; its programme's items and teachers
    are loaded by `prefetch_course_programme`, only when the page's static part is rendered."""
    return (
        Course.objects.published()
        .prefetch_related(
            Prefetch("sessions", queryset=Session.objects.order_by("date", "start")), "quotas"
        )
        .get(slug=slug)
    )


def prefetch_course_programme(course: Course) -> Course:
    """Load a course's whole programme (items and their teachers, the course's teachers) in a
    fixed number of queries, reusing its sessions if already loaded."""
    items = ScheduleItem.objects.order_by("start").prefetch_related("teachers")
    prefetch_related_objects(
        [course],
        Prefetch("sessions", queryset=Session.objects.order_by("date", "start")),
        Prefetch("sessions__items", queryset=items),
        "teachers",
    )
    return course


@dataclass(frozen=True)
class CourseSchedule:
    first_day: dt.date | None
    last_day: dt.date | None
    total_minutes: int
    session_count: int
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    last_session_starts_at: dt.datetime | None = None
    # At least one session meets in a room (in presenza or mista), where people check in.
    meets_in_person: bool = False

    def has_started(self, now: dt.datetime | None = None) -> bool:
        return self.starts_at is not None and (now or timezone.now()) >= self.starts_at

    def has_ended(self, now: dt.datetime | None = None) -> bool:
        return self.ends_at is not None and (now or timezone.now()) >= self.ends_at

    @property
    def total_hours_label(self) -> str:
        return format_duration(self.total_minutes, style="clock")


def get_total_minutes(sessions: Iterable[Session]) -> int:
    """The planned minutes of these sessions: the one sum behind every course total."""
    return sum(session.minutes for session in sessions)


def get_course_schedule(course: Course) -> CourseSchedule:
    """Dates and total length of a course; uses prefetched sessions when present.

    The one place that derives a course's start, end and planned minutes from its sessions:
    enrolment, attendance, the questionnaire and certificates all read them here.
    """
    sessions = list(course.sessions.all())
    return CourseSchedule(
        first_day=min((s.date for s in sessions), default=None),
        last_day=max((s.date for s in sessions), default=None),
        total_minutes=get_total_minutes(sessions),
        session_count=len(sessions),
        starts_at=min((s.starts_at() for s in sessions), default=None),
        ends_at=max((s.ends_at() for s in sessions), default=None),
        last_session_starts_at=max((s.starts_at() for s in sessions), default=None),
        meets_in_person=any(s.mode != SessionMode.ONLINE for s in sessions),
    )


def course_has_started(course: Course, now: dt.datetime | None = None) -> bool:
    return get_course_schedule(course).has_started(now)


def get_course_end(course: Course) -> dt.datetime | None:
    """When the last session ends; uses prefetched sessions when present."""
    return get_course_schedule(course).ends_at


def list_course_ids_starting_on(day: dt.date) -> list[int]:
    """Courses whose first session is on `day` (for the reminders)."""
    return list(
        Course.objects.annotate(first_day=Min("sessions__date"))
        .filter(first_day=day)
        .values_list("pk", flat=True)
    )


def split_catalogue(
    courses: Iterable[Course], now: dt.datetime | None = None
) -> tuple[list[tuple[Course, CourseSchedule]], list[tuple[Course, CourseSchedule]]]:
    """(upcoming, past): courses not yet ended, soonest first, and ended ones, latest first."""
    now = now or timezone.now()
    rows = [(course, get_course_schedule(course)) for course in courses]
    upcoming = [row for row in rows if not row[1].has_ended(now)]
    past = [row for row in rows if row[1].has_ended(now)]
    upcoming.sort(key=lambda r: (r[1].first_day or r[0].enrollment_deadline, r[0].code))
    past.sort(key=lambda r: (r[1].ends_at, r[0].code), reverse=True)
    return upcoming, past


def get_course_total_minutes(course: Course) -> int:
    """The course's total length in minutes: the sum of its sessions' lengths."""
    return get_course_schedule(course).total_minutes
