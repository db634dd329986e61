"""Files made from attendance data: the rows of a course grid's export, the sign-in sheet PDF."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string
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
