from __future__ import annotations

from django import template

from core.formatting import format_duration

register = template.Library()


@register.filter
def minutes_hm(value: int | None) -> str:
    """576 → «9 h 36 min»; 240 → «4 h»."""
    return format_duration(value, style="short")
