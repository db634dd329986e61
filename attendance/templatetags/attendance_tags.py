from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def minutes_hm(value: int | None) -> str:
    """576 → «9 h 36 min»; 240 → «4 h»."""
    if value is None:
        return ""
    hours, minutes = divmod(int(value), 60)
    if hours and minutes:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": minutes}
