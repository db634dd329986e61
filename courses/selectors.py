from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from courses.models import Course, ScheduleItem, Session


def list_catalogue() -> QuerySet[Course]:
    """Published courses, soonest first, with their sessions for dates and total hours."""
    return (
        Course.objects.published()
        .prefetch_related(Prefetch("sessions", queryset=Session.objects.order_by("date", "start")))
        .order_by("-enrollment_deadline", "code")
    )


def get_course_for_page(*, slug: str) -> Course:
    """One published course with its whole programme, in a fixed number of queries."""
    items = ScheduleItem.objects.order_by("start").prefetch_related("teachers")
    sessions = Session.objects.order_by("date", "start").prefetch_related(
        Prefetch("items", queryset=items)
    )
    return (
        Course.objects.published()
        .prefetch_related(Prefetch("sessions", queryset=sessions), "teachers", "quotas")
        .get(slug=slug)
    )


@dataclass(frozen=True)
class CourseSchedule:
    first_day: dt.date | None
    last_day: dt.date | None
    total_minutes: int
    session_count: int

    @property
    def total_hours_label(self) -> str:
        hours, minutes = divmod(self.total_minutes, 60)
        return f"{hours}:{minutes:02d}" if minutes else str(hours)


def get_course_schedule(course: Course) -> CourseSchedule:
    """Dates and total length of a course; uses prefetched sessions when present."""
    sessions = list(course.sessions.all())
    return CourseSchedule(
        first_day=min((s.date for s in sessions), default=None),
        last_day=max((s.date for s in sessions), default=None),
        total_minutes=sum(s.minutes for s in sessions),
        session_count=len(sessions),
    )


def get_course_total_minutes(course: Course) -> int:
    """The course's total length in minutes: the sum of its sessions' lengths."""
    return get_course_schedule(course).total_minutes
