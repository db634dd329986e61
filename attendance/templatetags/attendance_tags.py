from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from attendance.selectors import get_progress_for_user
from courses.models import Course

register = template.Library()


@register.filter
def minutes_hm(value: int | None) -> str:
    """576 → «9 h 36 min»; 240 → «4 h»."""
    if value is None:
        return ""
    hours, minutes = divmod(int(value), 60)
    if hours and minutes:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": minutes}


@register.inclusion_tag("attendance/_progress.html")
def attendance_progress(course: Course, user: Any) -> dict:
    """A confirmed participant's progress box for the course page; empty for anyone else."""
    return {
        "course": course,
        "progress": get_progress_for_user(user=user, course=course),
        "show_link": True,
    }
