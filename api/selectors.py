from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from api.models import ApiKey
from attendance.models import Attendance
from certificates.models import Certificate
from certificates.selectors import list_course_valid_certificates
from courses.models import Course
from courses.selectors import list_catalogue
from enrollment.models import Enrollment
from enrollment.selectors import list_course_enrollments


def list_api_courses(
    *, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> QuerySet[Course]:
    """The published catalogue; with dates, the courses with a session in that range."""
    qs = list_catalogue()
    if date_from is not None:
        qs = qs.filter(sessions__date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(sessions__date__lte=date_to)
    if date_from is not None or date_to is not None:
        qs = qs.distinct()
    return qs


def list_key_enrollments(*, key: ApiKey, course: Course) -> QuerySet[Enrollment]:
    """A course's enrolments of the key's organisation's people only."""
    return list_course_enrollments(course).filter(
        user__profile__organisation__iexact=key.organisation
    )


def list_key_attendance(
    *,
    key: ApiKey,
    course: Course,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> QuerySet[Attendance]:
    """A course's presences of the key's organisation's people, optionally by session date."""
    qs = Attendance.objects.filter(
        enrollment__course=course,
        enrollment__user__profile__organisation__iexact=key.organisation,
    )
    if date_from is not None:
        qs = qs.filter(session__date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(session__date__lte=date_to)
    return qs.order_by("session__date", "session__start", "enrollment_id")


def list_key_certificates(*, key: ApiKey, course: Course) -> QuerySet[Certificate]:
    return list_course_valid_certificates(course).filter(
        enrollment__user__profile__organisation__iexact=key.organisation
    )


def get_key_certificate(*, key: ApiKey, token: str) -> Certificate | None:
    return Certificate.objects.filter(
        token=token,
        status=Certificate.Status.VALID,
        enrollment__user__profile__organisation__iexact=key.organisation,
    ).first()
