from __future__ import annotations

import datetime as dt

from django import template
from django.utils.formats import date_format
from django.utils.translation import get_language

register = template.Library()


def _localised(value: dt.date | None, fmt: str) -> str:
    if not value:
        return ""
    text = date_format(value, fmt)
    # Django's Italian locale capitalises month and day names; Italian writes them lower-case.
    return text.lower() if (get_language() or "").startswith("it") else text


@register.filter
def longdate(value: dt.date | None) -> str:
    """«19 marzo 2026»."""
    return _localised(value, "j F Y")


@register.filter
def longday(value: dt.date | None) -> str:
    """«giovedì 19 marzo 2026»."""
    return _localised(value, "l j F Y")
