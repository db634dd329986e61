from __future__ import annotations

from attendance.scans import close_open_entries
from attendance.services import purge_stale_import_files
from portal.celery import app


@app.task(ignore_result=True)
def purge_stale_imports_task() -> int:
    """Periodic (Celery beat): delete uploaded attendance files of previews never confirmed."""
    return purge_stale_import_files()


@app.task(ignore_result=True)
def close_open_entries_task() -> int:
    """Periodic (Celery beat): close at the session's end the entries nobody scanned out of,
    flagged for the secretariat to confirm."""
    return close_open_entries()
