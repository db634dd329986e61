from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from web.emails import send_accessibility_feedback_task
from web.models import AccessibilityFeedback


def submit_accessibility_feedback(
    *, name: str, email: str, page_url: str, message: str
) -> AccessibilityFeedback:
    """Record an accessibility report and forward it to the secretariat after commit."""
    with transaction.atomic(durable=True):
        feedback = AccessibilityFeedback(
            name=name.strip(), email=email, page_url=page_url.strip(), message=message.strip()
        )
        feedback.full_clean()
        feedback.save()
        send_accessibility_feedback_task.delay_on_commit(feedback.pk)
    return feedback


def purge_old_accessibility_feedback(*, now: dt.datetime | None = None) -> int:
    """Delete the reports older than the retention period (personal data); how many."""
    cutoff = (now or timezone.now()) - dt.timedelta(
        days=settings.ACCESSIBILITY_FEEDBACK_RETENTION_DAYS
    )
    deleted, _by_model = AccessibilityFeedback.objects.filter(created_at__lt=cutoff).delete()
    return deleted
