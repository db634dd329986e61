from __future__ import annotations

from typing import Any

from django import template

from certificates.selectors import get_eligibility, get_valid_certificate
from courses.models import Course
from enrollment.selectors import get_confirmed_enrollment

register = template.Library()


@register.inclusion_tag("certificates/_status.html")
def certificate_status(course: Course, user: Any) -> dict[str, Any]:
    """The course page's certificate box: the download link, or what is still missing.

    Empty for anyone who is not a confirmed participant of the course.
    """
    if not getattr(user, "is_authenticated", False):
        return {}
    enrollment = get_confirmed_enrollment(user_id=user.pk, course=course)
    if enrollment is None:
        return {}
    enrollment.course = course  # reuse the page's prefetched sessions
    certificate = get_valid_certificate(enrollment)
    if certificate is not None:
        return {"course": course, "certificate": certificate}
    eligibility = get_eligibility(enrollment)
    return {"course": course, "eligibility": eligibility}
