"""One duration formatter, one date formatter, one file stem per course."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from core.formatting import format_duration, long_date, long_day, short_datetime
from tests.factories import CourseFactory


@pytest.mark.parametrize(
    ("minutes", "words", "short", "clock"),
    [
        (0, "0 minuti", "0 min", "0"),
        (45, "45 minuti", "45 min", "0:45"),
        (240, "4 ore", "4 h", "4"),
        (576, "9 ore e 36 minuti", "9 h 36 min", "9:36"),
    ],
)
def test_one_formatter_for_every_duration(minutes, words, short, clock):
    with translation.override("it"):
        assert format_duration(minutes) == words
        assert format_duration(minutes, style="short") == short
        assert format_duration(minutes, style="clock") == clock
    assert format_duration(None, style="short") == ""


def test_italian_dates_are_lower_case_and_empty_for_none():
    with translation.override("it"):
        assert long_date(dt.date(2026, 3, 19)) == "19 marzo 2026"
        assert long_day(dt.date(2026, 3, 19)) == "giovedì 19 marzo 2026"
    with translation.override("en"):
        assert long_date(dt.date(2026, 3, 19)) == "19 March 2026"
    assert long_date(None) == "" and short_datetime(None) == ""


@pytest.mark.django_db
def test_course_file_stem_has_no_slash():
    assert CourseFactory(code="C5092Z/1").file_stem == "C5092Z-1"
