"""The participant's GDPR rights across apps: a copy of their data, and erasure.

This module composes the apps (like portal/urls.py); each app's rules stay in its services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from accounts.models import Profile, RetentionPolicy, User
from accounts.services import PROFILE_FIELDS, anonymise_user
from attendance.models import Attendance
from certificates.models import Certificate
from enrollment.models import Enrollment
from enrollment.services import EnrollmentError, cancel_enrollment
from questionnaire.models import Completion

ACTIVE = (Enrollment.Status.REQUESTED, Enrollment.Status.CONFIRMED, Enrollment.Status.WAITLISTED)


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime | dt.time) else value


def export_user_data(user: User) -> dict[str, Any]:
    """Everything the portal holds about one person, as JSON-ready data (art. 15 and 20)."""
    profile = Profile.objects.filter(user=user).first()
    enrollments = Enrollment.objects.filter(user=user).select_related("course").order_by("id")
    attendance = (
        Attendance.objects.filter(enrollment__user=user)
        .select_related("session", "enrollment__course")
        .order_by("session__date")
    )
    return {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "language": user.language,
            "news_opt_in": user.news_opt_in,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
        },
        "profile": {field: getattr(profile, field) for field in PROFILE_FIELDS}
        if profile
        else None,
        "enrollments": [
            {
                "course": e.course.code,
                "title": e.course.title,
                "status": e.status,
                "requested_at": _iso(e.created_at),
                "confirmed_at": _iso(e.confirmed_at),
                "cancelled_at": _iso(e.cancelled_at),
            }
            for e in enrollments
        ],
        "attendance": [
            {
                "course": a.enrollment.course.code,
                "date": _iso(a.session.date),
                "minutes": a.minutes,
                "entry": _iso(a.entry),
                "exit": _iso(a.exit),
            }
            for a in attendance
        ],
        # Only the fact of completion is linked to a person; the answers are anonymous.
        "questionnaires_completed": [
            {"course": c.enrollment.course.code, "completed_at": _iso(c.completed_at)}
            for c in Completion.objects.filter(enrollment__user=user).select_related(
                "enrollment__course"
            )
        ],
        "certificates": [
            {
                "serial": c.serial,
                "course": c.course_code,
                "status": c.status,
                "issued_at": _iso(c.issued_at),
                "verification_code": c.code,
            }
            for c in Certificate.objects.filter(enrollment__user=user).order_by("issued_at")
        ],
    }


def erase_participant(*, user: User) -> None:
    """Erasure (art. 17): free the person's seats, then anonymise the account.

    Issued certificates and attendance records are kept: the organiser must be able to prove
    the training (legal obligation and public task, art. 17(3)(b)); they no longer lead to an
    account that identifies the person.
    """
    for enrollment in Enrollment.objects.filter(user=user, status__in=ACTIVE):
        try:
            cancel_enrollment(enrollment=enrollment, by_secretariat=True)
        except EnrollmentError:
            continue
    anonymise_user(user=user)


def anonymise_inactive_accounts(*, now: dt.datetime | None = None) -> int:
    """Apply the secretariat's retention period to participant accounts; returns how many."""
    policy = RetentionPolicy.objects.first()
    if policy is None or not policy.inactive_days:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=policy.inactive_days)
    stale = (
        User.objects.filter(is_staff=False, is_superuser=False)
        .exclude(email__endswith="@anonimizzato.invalid")
        .filter(Q(last_login__lt=cutoff) | Q(last_login__isnull=True, date_joined__lt=cutoff))
        .exclude(enrollments__status__in=ACTIVE, enrollments__course__sessions__date__gte=cutoff)
        .distinct()
    )
    count = 0
    for user in stale:
        erase_participant(user=user)
        count += 1
    return count
