from __future__ import annotations

from typing import Any

from django import template

from attendance.selectors import get_progress_for_user
from courses.models import Course
from portal.formatting import format_duration

register = template.Library()


@register.filter
def minutes_hm(value: int | None) -> str:
    """576 → «9 h 36 min»; 240 → «4 h»."""
    return format_duration(value, style="short")


@register.inclusion_tag("attendance/_progress.html")
def attendance_progress(course: Course, user: Any) -> dict:
    """A confirmed participant's progress box for the course page; empty for anyone else."""
    return {
        "course": course,
        "progress": get_progress_for_user(user=user, course=course),
        "show_link": True,
    }
