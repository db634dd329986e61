"""certificates' reactions to events of the layers below it."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from certificates.tasks import issue_certificate_if_eligible_task
from portal.dispatch import send_task
from questionnaire.signals import questionnaire_completed


@receiver(questionnaire_completed, dispatch_uid="certificates.issue_on_questionnaire_completed")
def on_questionnaire_completed(sender: Any, *, enrollment_id: int, **kwargs: Any) -> None:
    # The completion is committed; with the broker down, queue_due_certificates_task issues
    # the certificate later.
    send_task(issue_certificate_if_eligible_task, enrollment_id)
