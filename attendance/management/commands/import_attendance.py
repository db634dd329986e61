from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounts.models import User
from attendance.imports import MAX_UPLOAD_BYTES, parse_attendance_file
from attendance.services import AttendanceError, import_attendance_rows
from courses.models import Course


def _iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            _("Data non valida: «%(value)s» (usa AAAA-MM-GG).") % {"value": value}
        ) from exc


class Command(BaseCommand):
    help = (
        "Importa le presenze di un corso da un file CSV o XLSX o dal report delle presenze di "
        "Microsoft Teams, Zoom o Google Meet. Se una riga non è valida "
        "elenca gli errori, non scrive nulla (salvo --valid-only) ed esce con codice 1."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("course_code", help="Codice del corso, es. C5092Z/1")
        parser.add_argument("file", type=Path, help="File .csv o .xlsx con la riga di intestazione")
        parser.add_argument(
            "--valid-only",
            action="store_true",
            help="Importa le righe valide anche se altre righe contengono errori.",
        )
        parser.add_argument(
            "--date",
            type=_iso_date,
            default=None,
            metavar="AAAA-MM-GG",
            help=(
                "Data della giornata per il report di una riunione online (Teams, Zoom, "
                "Google Meet): le righe di altre date sono rifiutate."
            ),
        )
        parser.add_argument(
            "--by",
            metavar="EMAIL",
            default="",
            help="E-mail dell'utente della segreteria a cui attribuire l'importazione.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            course = Course.objects.get(code=options["course_code"])
        except Course.DoesNotExist as exc:
            raise CommandError(
                _("Corso sconosciuto: %(code)s") % {"code": options["course_code"]}
            ) from exc
        recorded_by = None
        if options["by"]:
            recorded_by = User.objects.filter(email__iexact=options["by"]).first()
            if recorded_by is None:
                raise CommandError(_("Utente sconosciuto: %(email)s") % {"email": options["by"]})
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(_("File non trovato: %(path)s") % {"path": path})
        if path.stat().st_size > MAX_UPLOAD_BYTES:
            raise CommandError(
                _("Il file supera la dimensione massima di %(mb)d MB.")
                % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        data = path.read_bytes()
        try:
            preview = parse_attendance_file(
                course=course, data=data, filename=path.name, day=options["date"]
            )
        except AttendanceError as exc:
            raise CommandError(exc.message) from exc

        for row in preview.error_rows:
            self.stderr.write(
                _("Riga %(line)d: %(error)s") % {"line": row.line, "error": row.error}
            )
        bad = len(preview.error_rows)
        if bad and not options["valid_only"]:
            raise CommandError(
                _("%(bad)d righe non valide su %(total)d: nessuna presenza è stata importata.")
                % {"bad": bad, "total": len(preview.rows)}
            )
        try:
            result = import_attendance_rows(
                rows=preview.rows,
                recorded_by=recorded_by,
                file_name=f"{path.name} (manage.py import_attendance)",
                file_sha256=preview.sha256,
                valid_only=True,
                source=preview.source,
            )
        except AttendanceError as exc:
            for line, message in exc.row_errors.items():
                self.stderr.write(_("Riga %(line)s: %(error)s") % {"line": line, "error": message})
            raise CommandError(exc.message) from exc
        self.stdout.write(
            _(
                "Importate %(changed)d presenze (%(same)d invariate) dal file %(name)s, "
                "SHA-256 %(sha)s."
            )
            % {
                "changed": result.changed,
                "same": result.unchanged,
                "name": path.name,
                "sha": preview.sha256,
            }
        )
        if bad:
            raise CommandError(_("%(bad)d righe non valide sono state scartate.") % {"bad": bad})
