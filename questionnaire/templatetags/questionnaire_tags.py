from __future__ import annotations

from typing import Any

from django import template

from courses.models import Course
from enrollment.selectors import get_confirmed_enrollment
from questionnaire.selectors import get_participant_status

register = template.Library()


@register.inclusion_tag("questionnaire/_status.html")
def questionnaire_status(course: Course, user: Any) -> dict[str, Any]:
    """The course page's questionnaire box, for confirmed participants only."""
    if not getattr(user, "is_authenticated", False):
        return {}
    enrollment = get_confirmed_enrollment(user_id=user.pk, course=course)
    if enrollment is None:
        return {}
    return {
        "course": course,
        "status": get_participant_status(course=course, enrollment=enrollment),
    }
