"""Plain-text pieces of certificates: durations, date lists, masked names, verification codes.

No database access: used by the PDF renderer, the selectors and the benchmark alike.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Iterable

from django.utils.formats import date_format
from django.utils.translation import get_language, gettext, ngettext

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits: unguessable, and short enough to type from paper
_CODE_TRANSLATION = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a person typed (spaces, dashes, lower case, O for 0) → the stored code, or ""."""
    cleaned = re.sub(r"[\s\-.]", "", text or "").upper().translate(_CODE_TRANSLATION)
    return cleaned if _CODE_RE.match(cleaned) else ""


def group_code(code: str) -> str:
    """«ABCD-EFGH-JKMN-PQRS»: easier to read on paper."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def format_duration(minutes: int) -> str:
    """«10 ore e 30 minuti», «1 ora», «41 minuti»."""
    hours, rest = divmod(max(int(minutes), 0), 60)
    hours_text = ngettext("%(n)d ora", "%(n)d ore", hours) % {"n": hours}
    minutes_text = ngettext("%(n)d minuto", "%(n)d minuti", rest) % {"n": rest}
    if hours and rest:
        return gettext("%(hours)s e %(minutes)s") % {"hours": hours_text, "minutes": minutes_text}
    if hours:
        return hours_text
    return minutes_text


def format_hours(attended_minutes: int, total_minutes: int) -> str:
    """«10 ore e 30 minuti su 12 ore»."""
    return gettext("%(attended)s su %(total)s") % {
        "attended": format_duration(attended_minutes),
        "total": format_duration(total_minutes),
    }


def _lower_if_italian(text: str) -> str:
    # Django's Italian locale capitalises month names; Italian writes them in lower case.
    return text.lower() if (get_language() or "").startswith("it") else text


def long_date(value: dt.date) -> str:
    """«19 marzo 2026» in the active language."""
    return _lower_if_italian(date_format(value, "j F Y"))


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
            label += " " + _lower_if_italian(date_format(day, "F"))
        if following is None or following.year != day.year:
            label += f" {day.year}"
        labels.append(label)
    return _join(labels) if labels else ""


def mask_name(first_name: str, last_name: str) -> str:
    """«Ma*** Ro***»: enough to recognise a certificate, not enough to learn a name."""

    def mask(word: str) -> str:
        return word[:2] + "***" if len(word) > 2 else word[:1] + "***"

    words = f"{first_name} {last_name}".split()
    return " ".join(mask(word) for word in words)
