"""Reading attendance files (CSV or XLSX) into rows checked against a course, writing nothing."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from attendance.models import Source
from attendance.reports import KINDS, MeetingReport, ReportLine, read_meeting_report
from attendance.services import AttendanceError, validate_attendance_values
from core.formatting import short_date
from courses.models import Course, Session
from enrollment.models import Enrollment

MAX_UPLOAD_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
# A 2 MB .xlsx can inflate a thousandfold; openpyxl would load its shared strings whole.
MAX_XLSX_UNCOMPRESSED_BYTES = 40 * 1024 * 1024
ALLOWED_EXTENSIONS = (".csv", ".xlsx")

# Normalised header → canonical column. Italian headers are accepted as well as English ones.
HEADER_ALIASES = {
    "email": "email",
    "e_mail": "email",
    "mail": "email",
    "indirizzo_e_mail": "email",
    "codice_fiscale": "codice_fiscale",
    "cf": "codice_fiscale",
    "date": "date",
    "data": "date",
    "entry": "entry",
    "entrata": "entry",
    "ingresso": "entry",
    "exit": "exit",
    "uscita": "exit",
    "minutes": "minutes",
    "minuti": "minutes",
}

_UNKNOWN_LAYOUT = gettext_lazy(
    "Formato del file non riconosciuto: carica un file CSV o XLSX con la riga di intestazione "
    "oppure il report delle presenze di Microsoft Teams, Zoom o Google Meet così come scaricato."
)

_TIME_RE = re.compile(r"^(\d{1,2})[:.](\d{2})(?::00)?$")


@dataclass
class ImportRow:
    line: int
    person: str
    date_text: str
    entry_text: str = ""
    exit_text: str = ""
    minutes_text: str = ""
    user: User | None = None
    enrollment: Enrollment | None = None
    session: Session | None = None
    minutes: int | None = None
    entry: dt.time | None = None
    exit: dt.time | None = None
    derived_minutes: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def error(self) -> str:
        return "; ".join(self.errors)


@dataclass
class ImportPreview:
    rows: list[ImportRow]
    sha256: str
    file_format: str

    @property
    def source(self) -> str:
        """The audit trail's origin: the meeting platform for a report, else a file import."""
        return self.file_format if self.file_format in KINDS else Source.IMPORT

    @property
    def error_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if row.errors]

    @property
    def valid_rows(self) -> list[ImportRow]:
        return [row for row in self.rows if not row.errors]


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def detect_format(*, data: bytes, filename: str) -> str:
    """'csv' or 'xlsx', from the name and the content, which must agree; or, from the content
    alone, the platform of a meeting's attendance report ('teams', 'zoom', 'meet')."""
    name = filename.lower()
    if len(data) <= MAX_UPLOAD_BYTES and data.strip():
        report = read_meeting_report(data)
        if report is not None:
            if not report.kind:
                raise AttendanceError(str(_UNKNOWN_LAYOUT), field="file")
            return report.kind
    if not name.endswith(ALLOWED_EXTENSIONS):
        raise AttendanceError(_("Sono accettati solo file .csv o .xlsx."), field="file")
    if len(data) > MAX_UPLOAD_BYTES:
        raise AttendanceError(
            _("Il file supera la dimensione massima di %(mb)d MB.")
            % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            field="file",
        )
    if not data.strip():
        raise AttendanceError(_("Il file è vuoto."), field="file")
    if name.endswith(".xlsx"):
        if not _looks_like_xlsx(data):
            raise AttendanceError(_("Il file non è un foglio Excel .xlsx valido."), field="file")
        if _uncompressed_size(data) > MAX_XLSX_UNCOMPRESSED_BYTES:
            raise AttendanceError(
                _("Il foglio Excel è troppo grande: dividilo in più file."), field="file"
            )
        return "xlsx"
    if data.startswith(b"PK\x03\x04") or b"\x00" in data:
        raise AttendanceError(_("Il file non è un testo CSV."), field="file")
    return "csv"


def _looks_like_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile:
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _uncompressed_size(data: bytes) -> int:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sum(info.file_size for info in archive.infolist())


def _decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Italian Excel saves "CSV (separato da ;)" in Windows-1252; the columns we read are ASCII.
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes) -> list[tuple[int, list[object]]]:
    text = _decode_csv(data)
    first_line = text.split("\n", 1)[0]
    # Italian Excel writes ";" because "," is the decimal separator.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    table: list[tuple[int, list[object]]] = []
    try:
        for cells in reader:
            table.append((reader.line_num, list(cells)))
            if len(table) > MAX_ROWS + 1:
                break
    except csv.Error as exc:
        raise AttendanceError(
            _("Il file CSV non è leggibile (riga %(line)d).") % {"line": reader.line_num},
            field="file",
        ) from exc
    return table


def _read_xlsx(data: bytes) -> list[tuple[int, list[object]]]:
    import openpyxl

    table: list[tuple[int, list[object]]] = []
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types on a corrupt file
        raise AttendanceError(_("Il foglio Excel non è leggibile."), field="file") from exc
    try:
        sheet = workbook.worksheets[0]
        # A bounded number of columns: a crafted sheet cannot make us read millions of cells.
        for number, cells in enumerate(sheet.iter_rows(values_only=True, max_col=20), start=1):
            table.append((number, list(cells)))
            if len(table) > MAX_ROWS + 1:
                break
    finally:
        workbook.close()
    return table


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value).strip()


def _header_key(value: object) -> str:
    key = _text(value).lower().replace("\ufeff", "")
    return re.sub(r"[\s\-]+", "_", key).strip("_")


def parse_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(
        _("Data non valida: «%(value)s» (usa AAAA-MM-GG oppure GG/MM/AAAA).") % {"value": text}
    )


def parse_time(value: object) -> dt.time:
    if isinstance(value, dt.datetime):
        return value.time().replace(second=0, microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(second=0, microsecond=0)
    text = _text(value)
    match = _TIME_RE.match(text)
    if match and int(match[1]) < 24 and int(match[2]) < 60:
        return dt.time(int(match[1]), int(match[2]))
    raise ValueError(_("Orario non valido: «%(value)s» (usa HH:MM).") % {"value": text})


def parse_minutes(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = _text(value)
    if text.isdigit():
        return int(text)
    raise ValueError(_("Minuti non validi: «%(value)s».") % {"value": text})


def _columns(header: list[object]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        canonical = HEADER_ALIASES.get(_header_key(cell))
        if canonical and canonical not in columns:
            columns[canonical] = index
    if "email" not in columns and "codice_fiscale" not in columns:
        raise AttendanceError(
            _("Manca la colonna «email» o «codice_fiscale» nella prima riga."), field="file"
        )
    if "date" not in columns:
        raise AttendanceError(
            _("Manca la colonna «date» (o «data») nella prima riga."), field="file"
        )
    has_times = "entry" in columns and "exit" in columns
    if not has_times and "minutes" not in columns:
        raise AttendanceError(
            _(
                "Mancano le colonne «entry» ed «exit» (o «entrata» e «uscita») "
                "oppure «minutes» (o «minuti») nella prima riga."
            ),
            field="file",
        )
    return columns


def parse_attendance_file(
    *, course: Course, data: bytes, filename: str, day: dt.date | None = None
) -> ImportPreview:
    """Every data row of the file, resolved against the course, each with its errors.

    ``day`` is the session's date for a meeting report (needed when it gives times only).
    """
    file_format = detect_format(data=data, filename=filename)
    if file_format in KINDS:
        report = read_meeting_report(data)
        assert report is not None
        return _report_preview(course=course, report=report, day=day, sha256=file_sha256(data))
    table = _read_xlsx(data) if file_format == "xlsx" else _read_csv(data)
    table = [(line, cells) for line, cells in table if any(_text(c) for c in cells)]
    if not table:
        raise AttendanceError(_("Il file è vuoto."), field="file")
    if len(table) > MAX_ROWS + 1:
        raise AttendanceError(
            _("Il file ha più di %(max)d righe: dividilo in più file.") % {"max": MAX_ROWS},
            field="file",
        )
    columns = _columns(table[0][1])

    def cell(cells: list[object], name: str) -> object:
        index = columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    rows: list[ImportRow] = []
    raw: list[tuple[ImportRow, list[object]]] = []
    for line, cells in table[1:]:
        email = _text(cell(cells, "email")).lower()
        codice_fiscale = _text(cell(cells, "codice_fiscale")).upper().replace(" ", "")
        row = ImportRow(
            line=line,
            person=email or codice_fiscale,
            date_text=_text(cell(cells, "date")),
            entry_text=_text(cell(cells, "entry")),
            exit_text=_text(cell(cells, "exit")),
            minutes_text=_text(cell(cells, "minutes")),
        )
        rows.append(row)
        raw.append((row, cells))

    users = _find_users(rows)
    enrollments = {
        e.user_id: e
        for e in Enrollment.objects.filter(course=course, user__in=list(users.values()))
    }
    sessions_by_date: dict[dt.date, list[Session]] = defaultdict(list)
    for session in course.sessions.all():
        sessions_by_date[session.date].append(session)

    for row, cells in raw:
        _resolve_person(row, users, enrollments)
        _resolve_session(row, cell(cells, "date"), sessions_by_date)
        _resolve_values(row, cells, cell)
    _flag_duplicates(rows)
    return ImportPreview(rows=rows, sha256=file_sha256(data), file_format=file_format)


def _find_users(rows: list[ImportRow]) -> dict[str, User]:
    people = {row.person for row in rows if row.person}
    emails = {p for p in people if "@" in p}
    codes = people - emails
    found: dict[str, User] = {}
    for user in User.objects.filter(
        Q(email__in=emails) | Q(profile__codice_fiscale__in=codes)
    ).select_related("profile"):
        found[user.email.lower()] = user
        profile = getattr(user, "profile", None)
        if profile is not None and profile.codice_fiscale:
            found[profile.codice_fiscale.upper()] = user
    return found


def _resolve_person(
    row: ImportRow, users: dict[str, User], enrollments: dict[int, Enrollment]
) -> None:
    if not row.person:
        row.errors.append(_("Manca l'indirizzo e-mail o il codice fiscale."))
        return
    user = users.get(row.person)
    if user is None:
        row.errors.append(_("Persona sconosciuta: «%(person)s».") % {"person": row.person})
        return
    row.user = user
    enrollment = enrollments.get(user.pk)
    if enrollment is None or not enrollment.is_confirmed:
        row.errors.append(
            _("%(person)s non ha un'iscrizione confermata a questo corso.")
            % {"person": user.get_full_name() or user.email}
        )
        return
    row.enrollment = enrollment


def _resolve_session(
    row: ImportRow, value: object, sessions_by_date: dict[dt.date, list[Session]]
) -> None:
    if not row.date_text:
        row.errors.append(_("Manca la data."))
        return
    try:
        day = parse_date(value)
    except ValueError as exc:
        row.errors.append(str(exc))
        return
    matches = sessions_by_date.get(day, [])
    label = short_date(day)
    if not matches:
        row.errors.append(_("Il %(date)s non è una giornata del corso.") % {"date": label})
    elif len(matches) > 1:
        row.errors.append(
            _(
                "Il corso ha più giornate il %(date)s: la data da sola non basta a "
                "individuare la giornata. Registra queste presenze dal registro della giornata."
            )
            % {"date": label}
        )
    else:
        row.session = matches[0]


def _resolve_values(
    row: ImportRow, cells: list[object], cell: Callable[[list[object], str], object]
) -> None:
    parse_errors = len(row.errors)
    if row.entry_text:
        try:
            row.entry = parse_time(cell(cells, "entry"))
        except ValueError as exc:
            row.errors.append(str(exc))
    if row.exit_text:
        try:
            row.exit = parse_time(cell(cells, "exit"))
        except ValueError as exc:
            row.errors.append(str(exc))
    if row.minutes_text:
        try:
            row.minutes = parse_minutes(cell(cells, "minutes"))
        except ValueError as exc:
            row.errors.append(str(exc))
    if row.session is None or len(row.errors) > parse_errors:
        return
    try:
        values = validate_attendance_values(
            session=row.session, minutes=row.minutes, entry=row.entry, exit=row.exit
        )
    except AttendanceError as exc:
        row.errors.append(exc.message)
    else:
        row.derived_minutes = values.minutes


def _flag_duplicates(rows: list[ImportRow]) -> None:
    # Conflicting lines for the same person and day would make the result depend on their
    # order: refuse all of them, so the secretariat decides.
    seen: dict[tuple[int, int], list[ImportRow]] = defaultdict(list)
    for row in rows:
        if row.enrollment is not None and row.session is not None:
            seen[(row.enrollment.pk, row.session.pk)].append(row)
    for group in seen.values():
        if len(group) < 2:
            continue
        lines = [row.line for row in group]
        for row in group:
            others = [str(n) for n in lines if n != row.line]
            row.errors.append(
                ngettext(
                    "Riga duplicata: stessa persona e stessa giornata della riga %(lines)s.",
                    "Riga duplicata: stessa persona e stessa giornata delle righe %(lines)s.",
                    len(others),
                )
                % {"lines": ", ".join(others)}
            )


def _report_preview(
    *, course: Course, report: MeetingReport, day: dt.date | None, sha256: str
) -> ImportPreview:
    """One row per person and day: their intervals merged and clamped to the session."""
    if not report.lines:
        raise AttendanceError(_("Il report non contiene partecipanti."), field="file")
    if len(report.lines) > MAX_ROWS:
        raise AttendanceError(
            _("Il file ha più di %(max)d righe: dividilo in più file.") % {"max": MAX_ROWS},
            field="file",
        )
    rows: list[ImportRow] = []
    groups: dict[tuple[str, dt.date], list[ReportLine]] = defaultdict(list)
    for line in report.lines:
        errors = _report_line_errors(line, day)
        if errors or not line.email:
            if not errors:
                errors.append(
                    _(
                        "«%(name)s» non ha un indirizzo e-mail nel report: registra la sua "
                        "presenza a mano dal registro della giornata oppure ignorala."
                    )
                    % {"name": line.name or "?"}
                )
            rows.append(
                ImportRow(
                    line=line.line, person=line.email or line.name, date_text="", errors=errors
                )
            )
            continue
        line_day = line.join_date or day
        assert line_day is not None  # a line without a date has an error
        groups[(line.email, line_day)].append(line)

    sessions_by_date: dict[dt.date, list[Session]] = defaultdict(list)
    for session in course.sessions.all():
        sessions_by_date[session.date].append(session)
    grouped: list[tuple[ImportRow, list[ReportLine]]] = []
    for (email, date), lines in groups.items():
        first = min(lines, key=lambda item: item.line)
        row = ImportRow(line=first.line, person=email, date_text=short_date(date))
        row.entry_text = min(_span(item, date)[0] for item in lines).strftime("%H:%M")
        row.exit_text = max(_span(item, date)[1] for item in lines).strftime("%H:%M")
        rows.append(row)
        grouped.append((row, lines))

    person_rows = [row for row, _lines in grouped]
    users = _find_users(person_rows)
    enrollments = {
        e.user_id: e
        for e in Enrollment.objects.filter(course=course, user__in=list(users.values()))
    }
    for row, lines in grouped:
        _resolve_person(row, users, enrollments)
        row_day = parse_date(row.date_text)
        _resolve_session(row, row_day, sessions_by_date)
        if row.session is None:
            continue
        row.minutes = merged_minutes([_span(item, row_day) for item in lines], row.session)
        durations = [item.duration for item in lines]
        if all(duration is not None for duration in durations):
            # Teams' participants section gives only first join and last leave: the time
            # actually spent in the meeting (gaps excluded) is a ceiling.
            spent = sum((d for d in durations if d is not None), dt.timedelta())
            row.minutes = min(row.minutes, int(spent.total_seconds() // 60))
        row.minutes_text = str(row.minutes)
        try:
            values = validate_attendance_values(session=row.session, minutes=row.minutes)
        except AttendanceError as exc:
            row.errors.append(exc.message)
        else:
            row.derived_minutes = values.minutes
    rows.sort(key=lambda row: row.line)
    return ImportPreview(rows=rows, sha256=sha256, file_format=report.kind)


def _report_line_errors(line: ReportLine, day: dt.date | None) -> list[str]:
    if line.error:
        return [line.error]
    if line.join_date is None and day is None:
        return [
            _(
                "Il report indica solo gli orari, non la data: indica la data della giornata "
                "(nel modulo di caricamento, o con l'opzione --date AAAA-MM-GG)."
            )
        ]
    if day is not None and line.join_date is not None and line.join_date != day:
        return [
            _("La riga è del %(found)s, non del %(expected)s.")
            % {"found": f"{line.join_date:%d/%m/%Y}", "expected": f"{day:%d/%m/%Y}"}
        ]
    line_day = line.join_date or day
    assert line_day is not None
    start, end = _span(line, line_day)
    if end < start:
        return [_("L'orario di uscita precede quello di ingresso.")]
    return []


def _span(line: ReportLine, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    assert line.join is not None and line.leave is not None
    start = dt.datetime.combine(line.join_date or day, line.join)
    end = dt.datetime.combine(line.leave_date or line.join_date or day, line.leave)
    return start, end


def merged_minutes(spans: list[tuple[dt.datetime, dt.datetime]], session: Session) -> int:
    """Whole minutes inside the session covered by the spans, counting overlaps once."""
    session_start = dt.datetime.combine(session.date, session.start)
    session_end = dt.datetime.combine(session.date, session.end)
    clamped = sorted(
        (max(start, session_start), min(end, session_end))
        for start, end in spans
        if min(end, session_end) > max(start, session_start)
    )
    total = dt.timedelta()
    current: tuple[dt.datetime, dt.datetime] | None = None
    for start, end in clamped:
        if current is not None and start <= current[1]:
            current = (current[0], max(current[1], end))
            continue
        if current is not None:
            total += current[1] - current[0]
        current = (start, end)
    if current is not None:
        total += current[1] - current[0]
    return int(total.total_seconds() // 60)
