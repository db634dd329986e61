from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from core.pagecache import (
    cached_course_content,
    cached_course_fragments,
    cached_for_anonymous,
    content_version,
)
from core.permissions import secretariat_required
from courses.models import Course
from courses.selectors import (
    CourseSchedule,
    get_course_for_page,
    get_course_schedule,
    list_catalogue,
    prefetch_course_programme,
    split_catalogue,
)
from enrollment.selectors import get_course_status_map, list_courses_for_secretariat
from web.selectors import get_course_page_state


@cached_for_anonymous
def catalogue(request: HttpRequest) -> HttpResponse:
    courses = list(list_catalogue())
    upcoming, past = split_catalogue(courses)
    # State and seats of every course, computed in one go.
    states = get_course_status_map(courses)
    return render(
        request,
        "web/catalogue.html",
        {
            "upcoming": [
                (course, schedule, states.get(course.pk)) for course, schedule in upcoming
            ],
            "past": [(course, schedule, states.get(course.pk)) for course, schedule in past],
        },
    )


@cached_for_anonymous
def course_detail(request: HttpRequest, slug: str) -> HttpResponse:
    version = content_version()  # one read for the course and its static parts
    try:
        # The course with its sessions and quotas: loaded once per course version, not on
        # every visit (seats and the visitor's own rows are read below, fresh).
        course = cached_course_content(
            "course", slug, lambda: get_course_for_page(slug=slug), version=version
        )
    except Course.DoesNotExist as exc:
        raise Http404 from exc
    schedule = get_course_schedule(course)
    state = get_course_page_state(course, request.user)
    return render(
        request,
        "web/course.html",
        {
            "course": course,
            "static": _course_static_parts(course, schedule, version=version),
            "boxes": state.boxes,
            "panel": state.panel,
            "info": state.panel.availability,
        },
    )


@dataclass(frozen=True)
class _StaticParts:
    content: str
    summary: str


def _course_static_parts(course: Course, schedule: CourseSchedule, *, version: int) -> _StaticParts:
    """The course's own content (texts, programme, teachers, summary), the same for everyone:
    rendered once per course version and language, not on every signed-in visit."""

    def render_part(template: str) -> Callable[[], str]:
        def render() -> str:
            prefetch_course_programme(course)
            context = {"course": course, "schedule": schedule}
            # No request: nothing about the visitor may end up in what everyone is shown.
            return render_to_string(template, context)

        return render

    parts = cached_course_fragments(
        course.pk,
        {
            "course-content": render_part("web/_course_content.html"),
            "course-summary": render_part("web/_course_summary.html"),
        },
        version=version,
    )
    return _StaticParts(content=parts["course-content"], summary=parts["course-summary"])


@secretariat_required("enrollment.manage_enrollments")
def secretariat_home(request: HttpRequest) -> HttpResponse:
    """Every course with its enrolment counts and links to each app's pages for it."""
    return render(request, "web/secretariat.html", {"courses": list_courses_for_secretariat()})
