from __future__ import annotations

from attendance.services import purge_stale_import_files
from portal.celery import app


@app.task(ignore_result=True)
def purge_stale_imports_task() -> int:
    """Periodic (Celery beat): delete uploaded attendance files of previews never confirmed."""
    return purge_stale_import_files()
