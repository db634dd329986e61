"""certificates' reactions to events of the layers below it."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from certificates.tasks import issue_certificate_if_eligible_task
from questionnaire.signals import questionnaire_completed


@receiver(questionnaire_completed, dispatch_uid="certificates.issue_on_questionnaire_completed")
def on_questionnaire_completed(sender: Any, *, enrollment_id: int, **kwargs: Any) -> None:
    # The completion is committed (the signal is sent on commit); with the broker down the
    # task logs and returns None, and queue_due_certificates_task issues the certificate later.
    issue_certificate_if_eligible_task.delay(enrollment_id)
