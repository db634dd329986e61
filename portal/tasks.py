from __future__ import annotations

from portal.celery import app


@app.task(ignore_result=True)
def anonymise_inactive_accounts_task() -> int:
    """Periodic (Celery beat): the retention period set by the secretariat."""
    from portal.privacy import anonymise_inactive_accounts

    return anonymise_inactive_accounts()
