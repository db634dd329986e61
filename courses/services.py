"""Writes of courses whose effects reach beyond the row itself."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.pagecache import invalidate_course_content
from courses.models import Session
from courses.signals import session_times_changed

if TYPE_CHECKING:
    from accounts.models import User


class CourseError(Exception):
    """A change to a course or its sessions that the rules refuse, with a message for the user."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


def update_session_times(
    *, session: Session, start: dt.time, end: dt.time, changed_by: User | None
) -> Session:
    """Change a session's times; what was recorded for it is re-clamped in the same transaction."""
    if start >= end:
        raise CourseError(_("L'orario di fine deve essere successivo a quello di inizio."))
    # Not durable: the admin calls this inside its own transaction.
    with transaction.atomic():
        # Attendance writers lock the session before its rows, so none of them can record minutes
        # checked against the old times while they change.
        locked = Session.objects.select_for_update(no_key=True, of=("self",)).get(pk=session.pk)
        old_start, old_end = locked.start, locked.end
        if (old_start, old_end) != (start, end):
            locked.start, locked.end = start, end
            try:
                locked.full_clean()
            except ValidationError as exc:
                raise CourseError(" ".join(exc.messages)) from exc
            locked.save(update_fields=["start", "end"])
            invalidate_course_content()  # the times show on the course pages
            session_times_changed.send(
                sender=Session,
                session=locked,
                old_start=old_start,
                old_end=old_end,
                changed_by=changed_by,
            )
    session.start, session.end = locked.start, locked.end
    return locked
