"""This app's part of a person's data: privacy composes every app's into one export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from core.personal_data import iso
from enrollment.models import Enrollment

if TYPE_CHECKING:
    from accounts.models import User


def export_personal_data(user: User) -> dict[str, Any]:
    """The person's enrolments, in order of request."""
    enrollments = Enrollment.objects.filter(user=user).select_related("course").order_by("id")
    return {
        "enrollments": [
            {
                "course": e.course.code,
                "title": e.course.title,
                "status": e.status,
                "requested_at": iso(e.created_at),
                "confirmed_at": iso(e.confirmed_at),
                "cancelled_at": iso(e.cancelled_at),
            }
            for e in enrollments
        ]
    }


def rows_naming(user: User) -> list[models.Model]:
    """This app's rows whose admin representation shows the person."""
    return list(Enrollment.objects.filter(user=user).select_related("user", "course"))
