"""Durations and dates as people read them, in the active language (Italian by default).

No database access: used by pages, e-mails, exports, the certificate PDF and the benchmark.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext, ngettext


def format_duration(
    minutes: int | None, *, style: Literal["words", "short", "clock"] = "words"
) -> str:
    """A number of minutes for people.

    words: «10 ore e 30 minuti», «1 ora», «41 minuti» (certificates, e-mails);
    short: «9 h 36 min», «4 h», «45 min» (tables);
    clock: «3:20», «3» (the course length, followed by "ore").
    """
    if minutes is None:
        return ""
    hours, rest = divmod(max(int(minutes), 0), 60)
    if style == "clock":
        return f"{hours}:{rest:02d}" if rest else str(hours)
    if style == "short":
        if hours and rest:
            return gettext("%(h)d h %(m)d min") % {"h": hours, "m": rest}
        if hours:
            return gettext("%(h)d h") % {"h": hours}
        return gettext("%(m)d min") % {"m": rest}
    hours_text = ngettext("%(n)d ora", "%(n)d ore", hours) % {"n": hours}
    minutes_text = ngettext("%(n)d minuto", "%(n)d minuti", rest) % {"n": rest}
    if hours and rest:
        return gettext("%(hours)s e %(minutes)s") % {"hours": hours_text, "minutes": minutes_text}
    if hours:
        return hours_text
    return minutes_text


def _localised(value: dt.date, fmt: str) -> str:
    text = date_format(value, fmt)
    # Django's Italian locale capitalises month and day names; Italian writes them lower-case.
    return text.lower() if (get_language() or "").startswith("it") else text


def long_date(value: dt.date | None) -> str:
    """«19 marzo 2026»."""
    return _localised(value, "j F Y") if value else ""


def long_day(value: dt.date | None) -> str:
    """«giovedì 19 marzo 2026»."""
    return _localised(value, "l j F Y") if value else ""


def short_datetime(value: dt.datetime | None, *, seconds: bool = False) -> str:
    """«19/03/2026 09:30» (or «19/03/2026 09:30:15») in local time, for exports and technical
    details such as a signature time-stamp."""
    if not value:
        return ""
    return timezone.localtime(value).strftime("%d/%m/%Y %H:%M:%S" if seconds else "%d/%m/%Y %H:%M")


def short_date(value: dt.date | dt.datetime | None) -> str:
    """«19/03/2026»; a moment is first taken to local time. For exports."""
    if not value:
        return ""
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date()
    return value.strftime("%d/%m/%Y")


def _join(items: list[str]) -> str:
    if len(items) == 1:
        return items[0]
    return gettext("%(first)s e %(last)s") % {"first": ", ".join(items[:-1]), "last": items[-1]}


def format_dates(dates: Iterable[dt.date]) -> str:
    """«5, 12 e 19 marzo 2026»; «26 febbraio, 5 e 12 marzo 2026»; each day once."""
    days = sorted(set(dates))
    labels: list[str] = []
    for i, day in enumerate(days):
        following = days[i + 1] if i + 1 < len(days) else None
        label = str(day.day)
        if following is None or (following.year, following.month) != (day.year, day.month):
            label += " " + _localised(day, "F")
        if following is None or following.year != day.year:
            label += f" {day.year}"
        labels.append(label)
    return _join(labels) if labels else ""
