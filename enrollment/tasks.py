from __future__ import annotations

import datetime as dt

from django.utils import timezone

from enrollment.emails import TransientEmailError, send_notification
from enrollment.models import Notification
from portal.celery import app

MAX_RETRIES = 6


@app.task(bind=True, acks_late=True, max_retries=MAX_RETRIES, ignore_result=True)
def send_notification_task(self, notification_id: int) -> bool:
    """Send one outbox e-mail; retried with backoff while the mail server is unavailable."""
    try:
        return send_notification(notification_id=notification_id)
    except TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries * 2)) from exc


@app.task(ignore_result=True)
def flush_outbox_task(older_than_seconds: int = 120) -> int:
    """Re-dispatch e-mails still pending, e.g. queued while the broker was down."""
    cutoff = timezone.now() - dt.timedelta(seconds=older_than_seconds)
    ids = list(
        Notification.objects.filter(
            status=Notification.Status.PENDING, created_at__lt=cutoff, attempts__lt=MAX_RETRIES + 1
        ).values_list("pk", flat=True)[:500]
    )
    for pk in ids:
        send_notification_task.delay(pk)
    return len(ids)


@app.task(ignore_result=True)
def send_reminders_task(days_before: int = 3) -> int:
    """Periodic (Celery beat): queue the reminder e-mails for courses starting soon."""
    from enrollment.services import queue_reminders

    return queue_reminders(days_before=days_before)
