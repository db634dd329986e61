"""Shared by each app's `personal_data` module, which privacy composes into one export."""

from __future__ import annotations

import datetime as dt
from typing import Any


def iso(value: Any) -> Any:
    """Dates and times as ISO 8601 text, anything else as is: the export is JSON."""
    return value.isoformat() if isinstance(value, dt.date | dt.datetime | dt.time) else value
