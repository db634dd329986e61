from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from core.pagecache import cached_for_anonymous
from core.permissions import secretariat_required
from courses.models import Course
from courses.selectors import (
    get_course_for_page,
    get_course_schedule,
    list_catalogue,
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
    try:
        course = get_course_for_page(slug=slug)
    except Course.DoesNotExist as exc:
        raise Http404 from exc
    state = get_course_page_state(course, request.user)
    return render(
        request,
        "web/course.html",
        {
            "course": course,
            "schedule": get_course_schedule(course),
            "boxes": state.boxes,
            "panel": state.panel,
            "info": state.panel.availability,
        },
    )


@secretariat_required("enrollment.manage_enrollments")
def secretariat_home(request: HttpRequest) -> HttpResponse:
    """Every course with its enrolment counts and links to each app's pages for it."""
    return render(request, "web/secretariat.html", {"courses": list_courses_for_secretariat()})
