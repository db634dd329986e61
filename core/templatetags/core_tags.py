from __future__ import annotations

from django import template

from core.formatting import long_date, long_day

register = template.Library()

register.filter("longdate", long_date)
register.filter("longday", long_day)
