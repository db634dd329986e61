from __future__ import annotations

from typing import Any

from django import template

from courses.models import Course
from enrollment.selectors import get_course_status_map, get_enrollment_panel

register = template.Library()


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key)


@register.simple_tag
def course_states(courses: list[Course]) -> dict:
    """State and seats of a list of courses, computed in one go for the catalogue."""
    return get_course_status_map(courses)


@register.inclusion_tag("enrollment/_panel.html", takes_context=True)
def enrollment_panel(context: dict, course: Course) -> dict:
    """The course page's enrolment box: seats left and what the visitor can do."""
    request = context["request"]
    panel = get_enrollment_panel(course, request.user)
    return {"course": course, "panel": panel, "info": panel.availability, "request": request}
