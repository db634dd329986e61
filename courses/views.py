from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from courses.models import Course
from courses.selectors import (
    get_course_for_page,
    get_course_schedule,
    list_catalogue,
    split_catalogue,
)
from core.pagecache import cached_for_anonymous


@cached_for_anonymous
def catalogue(request: HttpRequest) -> HttpResponse:
    courses = list(list_catalogue())
    upcoming, past = split_catalogue(courses)
    return render(
        request,
        "courses/catalogue.html",
        {"upcoming": upcoming, "past": past, "courses": courses},
    )


@cached_for_anonymous
def detail(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        course = get_course_for_page(slug=slug)
    except Course.DoesNotExist as exc:
        raise Http404 from exc
    return render(
        request,
        "courses/detail.html",
        {"course": course, "schedule": get_course_schedule(course)},
    )
