"""attendance's reactions to events of the layers below it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.dispatch import receiver

from attendance.services import reclamp_session_attendance
from courses.signals import session_times_changed

if TYPE_CHECKING:
    from accounts.models import User
    from courses.models import Session


@receiver(session_times_changed, dispatch_uid="attendance.reclamp_session_attendance")
def on_session_times_changed(
    sender: Any,
    *,
    session: Session,
    old_start: dt.time,
    old_end: dt.time,
    changed_by: User | None,
    **kwargs: Any,
) -> None:
    reclamp_session_attendance(
        session=session, old_start=old_start, old_end=old_end, changed_by=changed_by
    )
