"""Files made from attendance data: CSV and XLSX exports of a course grid, the sign-in sheet PDF."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils import formats
from django.utils.translation import gettext as _

if TYPE_CHECKING:
    from django.http import HttpRequest

    from attendance.selectors import CourseGrid
    from courses.models import Session


def _session_label(session: Session) -> str:
    return f"{session.date:%d/%m/%Y} {session.start:%H:%M}-{session.end:%H:%M}"


def grid_table(grid: CourseGrid) -> list[list[str | int | float]]:
    """The export's rows, header first: plain values, typed, for CSV and XLSX alike."""
    header: list[str | int | float] = [
        _("Cognome"),
        _("Nome"),
        _("Codice fiscale"),
        _("E-mail"),
        *[_("Minuti %(session)s") % {"session": _session_label(s)} for s in grid.sessions],
        _("Minuti totali"),
        _("Minuti del corso"),
        _("Percentuale"),
        _("Soglia raggiunta"),
    ]
    table = [header]
    for row in grid.rows:
        user = row.enrollment.user
        profile = getattr(user, "profile", None)
        table.append(
            [
                user.last_name,
                user.first_name,
                profile.codice_fiscale if profile else "",
                user.email,
                *["" if m is None else m for m in row.minutes],
                row.progress.attended_minutes,
                row.progress.total_minutes,
                row.progress.percent,
                _("Sì") if row.progress.threshold_met else _("No"),
            ]
        )
    return table


def export_grid_csv(grid: CourseGrid) -> bytes:
    """CSV for Italian Excel (";" and a BOM); defusedcsv keeps "=..." cells from being formulas."""
    from defusedcsv import csv as safe_csv

    buffer = io.StringIO()
    writer = safe_csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    for values in grid_table(grid):
        writer.writerow(
            [formats.number_format(v, 1) if isinstance(v, float) else v for v in values]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_grid_xlsx(grid: CourseGrid) -> bytes:
    """XLSX with every text cell typed as a string: nothing typed by a user becomes a formula."""
    import openpyxl
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = _("Presenze")[:31]
    for r, values in enumerate(grid_table(grid), start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                # openpyxl turns a string starting with "=" into a formula unless told otherwise.
                cell.data_type = "s"
            if r == 1:
                cell.font = Font(bold=True)
    for c in range(1, sheet.max_column + 1):
        sheet.column_dimensions[get_column_letter(c)].width = 18
    sheet.freeze_panes = "C2"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def render_sign_in_sheet(*, session: Session, participants: list, request: HttpRequest) -> bytes:
    """The session's sign-in sheet (foglio firme) as a PDF."""
    # WeasyPrint takes seconds to import: only pages that make PDFs pay for it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    class _RefuseAll(URLFetcher):
        # The sheet needs nothing from outside; refusing every URL rules out remote and
        # internal fetches (file://, http://169.254…) whatever ends up in the HTML.
        def fetch(self, url: str, headers: object = None) -> None:
            raise ValueError(f"fetching is disabled: {url}")

    html = render_to_string(
        "attendance/sign_in_sheet.html",
        {"session": session, "course": session.course, "participants": participants},
        request=request,
    )
    return HTML(string=html, base_url=None, url_fetcher=_RefuseAll()).write_pdf()
