from __future__ import annotations

from portal.celery import app
from questionnaire.services import publish_pending_responses


@app.task(ignore_result=True)
def publish_pending_responses_task() -> int:
    """Periodic (Celery beat): publish pending answers in shuffled batches, all at closing."""
    return publish_pending_responses()
