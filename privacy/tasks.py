from __future__ import annotations

from portal.celery import app
from privacy.services import anonymise_inactive_accounts


@app.task(ignore_result=True)
def anonymise_inactive_accounts_task() -> int:
    """Periodic (Celery beat): the retention period set by the secretariat."""
    return anonymise_inactive_accounts()
