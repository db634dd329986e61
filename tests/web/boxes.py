"""Render one box of the course page as the page does: the visitor's rows loaded once (web)."""

from __future__ import annotations

from django.template.loader import render_to_string

from enrollment.models import Enrollment
from enrollment.selectors import get_user_enrollment
from questionnaire.selectors import get_participant_status
from web.selectors import get_participant_boxes


def _boxes(course, user):
    return get_participant_boxes(course, user, enrollment=get_user_enrollment(course, user))


def render_progress_box(course, user) -> str:
    boxes = _boxes(course, user)
    return render_to_string(
        "attendance/_progress.html",
        {"course": course, "progress": boxes.progress, "show_link": True},
    )


def render_questionnaire_box(course, user) -> str:
    # Only this box's rows, as get_participant_boxes loads them (the query-count test counts it).
    enrollment = get_user_enrollment(course, user)
    status = None
    if enrollment is not None and enrollment.status == Enrollment.Status.CONFIRMED:
        status = get_participant_status(course=course, enrollment=enrollment)
    return render_to_string("questionnaire/_status.html", {"course": course, "status": status})


def render_certificate_box(course, user) -> str:
    boxes = _boxes(course, user)
    return render_to_string(
        "certificates/_status.html",
        {"course": course, "certificate": boxes.certificate, "eligibility": boxes.eligibility},
    )
