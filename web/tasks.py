"""Tasks of the site's own pages: accessibility reports forwarded and, in time, deleted."""

from __future__ import annotations

import datetime as dt

from portal.celery import app
from web.emails import list_pending_feedback_ids, send_accessibility_feedback_task
from web.services import purge_old_accessibility_feedback

__all__ = [
    "flush_accessibility_feedback_task",
    "purge_old_accessibility_feedback_task",
    "send_accessibility_feedback_task",
]


@app.task(ignore_result=True)
def flush_accessibility_feedback_task(older_than_seconds: int = 120) -> int:
    """Periodic (Celery beat): forward the reports still pending in the outbox."""
    ids = list_pending_feedback_ids(older_than=dt.timedelta(seconds=older_than_seconds))
    for pk in ids:
        send_accessibility_feedback_task.delay(pk)
    return len(ids)


@app.task(ignore_result=True)
def purge_old_accessibility_feedback_task() -> int:
    """Periodic (Celery beat): delete reports past their retention period."""
    return purge_old_accessibility_feedback()
