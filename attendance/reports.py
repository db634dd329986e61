"""Reading the attendance reports of meeting platforms (Teams, Zoom, Google Meet).

A report is recognised by its content, never by its file name. Parsing gives one
ReportLine per join/leave interval; attendance.imports groups them per person and day.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

TEAMS = "teams"
ZOOM = "zoom"
MEET = "meet"
KINDS = (TEAMS, ZOOM, MEET)

# Normalised header → canonical column, English (old and new styles) and Italian.
REPORT_HEADERS = {
    "name": "name",
    "nome": "name",
    "full name": "name",
    "name (original name)": "name",
    "nome (nome originale)": "name",
    "first name": "first_name",
    "last name": "last_name",
    "cognome": "last_name",
    "email": "email",
    "e-mail": "email",
    "user email": "email",
    "indirizzo e-mail": "email",
    "first join": "join",
    "join time": "join",
    "time joined": "join",
    "primo ingresso": "join",
    "prima partecipazione": "join",
    "ora di ingresso": "join",
    "ora ingresso": "join",
    "ora partecipazione": "join",
    "ora di partecipazione": "join",
    "last leave": "leave",
    "leave time": "leave",
    "time exited": "leave",
    "ultima uscita": "leave",
    "ora di uscita": "leave",
    "ora uscita": "leave",
    "in-meeting duration": "duration",
    "duration": "duration",
    "duration (minutes)": "duration",
    "durata": "duration",
    "durata (minuti)": "duration",
    "durata riunione": "duration",
    "durata nella riunione": "duration",
}

_DURATION_RE = re.compile(
    r"(\d+)\s*(h|hr|hrs|hours?|ore|ora|m|min|mins|minutes?|minuti|s|sec|secs|seconds?|secondi)\b",
    re.IGNORECASE,
)

_TEAMS_SECTION_RE = re.compile(r"^\s*(\d)\.\s+\S")
_TEAMS_SUMMARY_RE = re.compile(r"^\s*1\.\s+(summary|riepilogo)\b", re.IGNORECASE)

_DATE_TIME_FORMATS = (
    # Month first only with AM/PM (American locale); day first otherwise (Italian, British).
    ("%m/%d/%y, %I:%M:%S %p", True),
    ("%m/%d/%Y, %I:%M:%S %p", True),
    ("%m/%d/%y %I:%M:%S %p", True),
    ("%m/%d/%Y %I:%M:%S %p", True),
    ("%m/%d/%Y, %I:%M %p", True),
    ("%m/%d/%Y %I:%M %p", True),
    ("%b %d, %Y, %I:%M:%S %p", True),
    ("%Y-%m-%d %I:%M:%S %p", True),
    ("%d/%m/%y, %H:%M:%S", True),
    ("%d/%m/%Y, %H:%M:%S", True),
    ("%d/%m/%y %H:%M:%S", True),
    ("%d/%m/%Y %H:%M:%S", True),
    ("%d/%m/%Y, %H:%M", True),
    ("%d/%m/%Y %H:%M", True),
    ("%Y-%m-%d %H:%M:%S", True),
    ("%Y-%m-%d %H:%M", True),
    ("%I:%M:%S %p", False),
    ("%I:%M %p", False),
    ("%H:%M:%S", False),
    ("%H:%M", False),
)


@dataclass
class ReportLine:
    """One join/leave interval of one person, as written on one line of the report."""

    line: int
    name: str
    email: str
    join_date: dt.date | None = None
    join: dt.time | None = None
    leave_date: dt.date | None = None
    leave: dt.time | None = None
    # The platform's own count of the interval (Teams' participants section: of the whole
    # meeting, gaps excluded); None if the report gives none or it is unreadable.
    duration: dt.timedelta | None = None
    error: str = ""


@dataclass
class MeetingReport:
    kind: str
    lines: list[ReportLine]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _key(value: str) -> str:
    text = value.replace("\ufeff", "").replace("\u202f", " ").replace("\xa0", " ")
    return re.sub(r"\s+", " ", text.strip().strip('"')).lower()


def _columns(cells: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        canonical = REPORT_HEADERS.get(_key(cell))
        if canonical and canonical not in columns:
            columns[canonical] = index
    return columns


def _is_interval_header(columns: dict[str, int]) -> bool:
    has_name = "name" in columns or "first_name" in columns
    return has_name and "join" in columns and "leave" in columns


def parse_stamp(value: str) -> tuple[dt.date | None, dt.time]:
    """A report's date and time, or a time alone; ValueError if unreadable."""
    text = value.replace("\u202f", " ").replace("\xa0", " ").strip().strip('"')
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\b([ap])\.?\s?m\.?$", lambda m: f"{m[1]}M", text, flags=re.IGNORECASE)
    text = text.upper() if text[-2:].upper() in ("AM", "PM") else text
    for fmt, has_date in _DATE_TIME_FORMATS:
        try:
            parsed = dt.datetime.strptime(text.title() if "%b" in fmt else text, fmt)
        except ValueError:
            continue
        return (parsed.date() if has_date else None), parsed.time()
    raise ValueError(_("Data o orario non leggibile: «%(value)s».") % {"value": value.strip()})


def parse_duration(value: str) -> dt.timedelta | None:
    """'1h 27m 51s' (Teams), '87' minutes (Zoom), '1 hr 27 min' (Meet); None if unreadable."""
    text = value.replace("\u202f", " ").replace("\xa0", " ").strip()
    if text.isdigit():
        return dt.timedelta(minutes=int(text))
    parts = _DURATION_RE.findall(text)
    if not parts or _DURATION_RE.sub("", text).strip():
        return None
    seconds = 0
    for amount, unit in parts:
        unit = unit.lower()
        factor = 3600 if unit.startswith(("h", "or")) else 1 if unit.startswith("s") else 60
        seconds += int(amount) * factor
    return dt.timedelta(seconds=seconds)


def _line(number: int, cells: list[str], columns: dict[str, int]) -> ReportLine:
    def cell(name: str) -> str:
        index = columns.get(name)
        return cells[index].strip().strip('"') if index is not None and index < len(cells) else ""

    name = cell("name") or " ".join(p for p in (cell("first_name"), cell("last_name")) if p)
    row = ReportLine(
        line=number,
        name=name,
        email=cell("email").lower(),
        duration=parse_duration(cell("duration")),
    )
    try:
        row.join_date, row.join = parse_stamp(cell("join"))
        row.leave_date, row.leave = parse_stamp(cell("leave"))
    except ValueError as exc:
        row.error = str(exc)
    return row


def _parse_teams(text: str) -> MeetingReport:
    sections: dict[str, list[ReportLine]] = {"2": [], "3": []}
    section = ""
    columns: dict[str, int] | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        cells = raw.split("\t")
        if not any(c.strip() for c in cells):
            continue
        titled = not any(c.strip() for c in cells[1:])
        match = _TEAMS_SECTION_RE.match(cells[0]) if titled else None
        if match:
            section, columns = match[1], None
            continue
        if section not in sections:
            continue
        if columns is None:
            found = _columns(cells)
            if _is_interval_header(found):
                columns = found
            continue
        sections[section].append(_line(number, cells, columns))
    # The activities list every join and leave; the participants section only first and last.
    return MeetingReport(kind=TEAMS, lines=sections["3"] or sections["2"])


def _parse_table(text: str) -> MeetingReport | None:
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first else (";" if first.count(";") > first.count(",") else ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    kind = ""
    columns: dict[str, int] = {}
    lines: list[ReportLine] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if not kind:
                found = _columns(cells)
                if not _is_interval_header(found):
                    # Zoom's older export puts the meeting's own details above the participants.
                    if reader.line_num > 10:
                        return None
                    continue
                keys = {_key(c) for c in cells}
                if keys & {"name (original name)", "nome (nome originale)"}:
                    kind = ZOOM
                elif "first_name" in found and "last_name" in found:
                    kind = MEET
                else:
                    return None
                columns = found
                continue
            lines.append(_line(reader.line_num, cells, columns))
    except csv.Error:
        return None
    return MeetingReport(kind=kind, lines=lines) if kind else None


def read_meeting_report(data: bytes) -> MeetingReport | None:
    """The report's kind and intervals, or None if the data is not a known meeting report."""
    if data.startswith(b"PK\x03\x04"):
        return None
    text = _decode(data)
    head = text[:4000].splitlines()
    if any(_TEAMS_SUMMARY_RE.match(line) for line in head[:3]):
        return _parse_teams(text)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        # UTF-16 is what Teams writes: anything else in it is a layout we do not know.
        return MeetingReport(kind="", lines=[])
    return _parse_table(text)
