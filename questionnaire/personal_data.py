"""This app's part of a person's data: privacy composes every app's into one export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import models

from core.personal_data import iso
from questionnaire.models import Completion

if TYPE_CHECKING:
    from accounts.models import User


def export_personal_data(user: User) -> dict[str, Any]:
    """Only the fact of completion is linked to a person; the answers are anonymous."""
    completions = Completion.objects.filter(enrollment__user=user).select_related(
        "enrollment__course"
    )
    return {
        "questionnaires_completed": [
            {"course": c.enrollment.course.code, "completed_at": iso(c.completed_at)}
            for c in completions
        ]
    }


def rows_naming(user: User) -> list[models.Model]:
    """This app's rows whose admin representation shows the person."""
    return list(
        Completion.objects.filter(enrollment__user=user).select_related(
            "enrollment__user", "enrollment__course"
        )
    )
