"""This app's part of a person's data: privacy composes every app's into one export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from attendance.models import Attendance, Scan
from core.personal_data import iso

if TYPE_CHECKING:
    from accounts.models import User


def export_personal_data(user: User) -> dict[str, Any]:
    """The person's attendance, session by session, and their entries and exits at the venue."""
    attendance = (
        Attendance.objects.filter(enrollment__user=user)
        .select_related("session", "enrollment__course")
        .order_by("session__date")
    )
    return {
        "attendance": [
            {
                "course": a.enrollment.course.code,
                "date": iso(a.session.date),
                "minutes": a.minutes,
                "entry": iso(a.entry),
                "exit": iso(a.exit),
            }
            for a in attendance
        ],
        "check_ins": [
            {
                "course": scan.enrollment.course.code,
                "date": iso(scan.session.date),
                "kind": scan.kind,
                "at": iso(scan.scanned_at),
                "source": scan.source,
                "automatic": scan.automatic,
            }
            for scan in Scan.objects.filter(enrollment__user=user)
            .select_related("session", "enrollment__course")
            .order_by("scanned_at", "pk")
        ],
    }


def rows_naming(user: User) -> list[models.Model]:
    """This app's rows whose admin representation shows the person."""
    return list(
        Attendance.objects.filter(enrollment__user=user).select_related(
            "enrollment__user", "session"
        )
    )
