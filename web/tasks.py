"""Tasks of the site's own pages: forwarding accessibility reports to the secretariat."""

from __future__ import annotations

import datetime as dt

from portal.celery import app
from web.emails import (
    MAX_ATTEMPTS,
    TransientEmailError,
    list_pending_feedback_ids,
    send_accessibility_feedback,
)


@app.task(
    bind=True,
    acks_late=True,
    max_retries=MAX_ATTEMPTS - 1,
    ignore_result=True,
)
def send_accessibility_feedback_task(self, feedback_id: int) -> bool:
    """Forward an accessibility report to the secretariat; retried while SMTP is down."""
    try:
        return send_accessibility_feedback(feedback_id=feedback_id)
    except TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries * 2)) from exc


@app.task(ignore_result=True)
def flush_accessibility_feedback_task(older_than_seconds: int = 120) -> int:
    """Periodic (Celery beat): forward the reports still pending in the outbox."""
    ids = list_pending_feedback_ids(older_than=dt.timedelta(seconds=older_than_seconds))
    for pk in ids:
        send_accessibility_feedback_task.delay(pk)
    return len(ids)
