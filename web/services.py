from __future__ import annotations

from django.db import transaction

from web.models import AccessibilityFeedback
from web.tasks import send_accessibility_feedback_task


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
