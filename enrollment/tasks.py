from __future__ import annotations

import datetime as dt

from django.utils import timezone

from enrollment.models import Notification
from enrollment.services import (
    MAX_SEND_RETRIES,
    queue_reminders,
    send_notification_task,
)
from portal.celery import app

__all__ = ["flush_outbox_task", "send_notification_task", "send_reminders_task"]


@app.task(ignore_result=True)
def flush_outbox_task(older_than_seconds: int = 120) -> int:
    """Re-dispatch e-mails still pending, e.g. queued while the broker was down."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        Notification.objects.filter(
            status=Notification.Status.PENDING,
            created_at__lt=cutoff,
            attempts__lt=MAX_SEND_RETRIES + 1,
        ).values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        send_notification_task.delay(pk)
    return len(ids)


@app.task(ignore_result=True)
def send_reminders_task(days_before: int = 3) -> int:
    """Periodic (Celery beat): queue the reminder e-mails for courses starting soon."""
    return queue_reminders(days_before=days_before)
