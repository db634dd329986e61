"""This app's part of a person's data: privacy composes every app's into one export."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from certificates.models import Certificate
from core.personal_data import iso

if TYPE_CHECKING:
    from accounts.models import User


def export_personal_data(user: User) -> dict[str, Any]:
    """The person's certificates, as issued (they are kept after erasure: art. 17(3)(b))."""
    return {
        "certificates": [
            {
                "serial": c.serial,
                "course": c.course_code,
                "status": c.status,
                "issued_at": iso(c.issued_at),
                "verification_code": c.code,
            }
            for c in Certificate.objects.filter(enrollment__user=user).order_by("issued_at")
        ]
    }
