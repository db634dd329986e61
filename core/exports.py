"""Downloads: CSV and Excel files that cannot turn a cell into a formula, the response that
carries any generated file, and ZIP archives streamed while they are built."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from defusedcsv import csv
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import formats
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING
from openpyxl.styles import Font

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_response(
    content: bytes | str, *, filename: str, content_type: str, inline: bool = False
) -> HttpResponse:
    """A generated file as a download (or shown in the browser with `inline`)."""
    return HttpResponse(
        content,
        content_type=content_type,
        headers={"Content-Disposition": content_disposition_header(not inline, filename)},
    )


def write_csv(
    header: Sequence[object], rows: Iterable[Sequence[object]], *, decimal_places: int = 2
) -> bytes:
    """A CSV for Italian Excel: UTF-8 with BOM, semicolons, decimal comma.

    defusedcsv escapes cells a spreadsheet would take for formulas (=, +, -, @).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [
                ""
                if v is None
                # Italian Excel reads "10.5" as a date or text.
                else formats.number_format(v, decimal_places)
                if isinstance(v, float)
                else v
                for v in row
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def write_xlsx(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    title: str = "Dati",
    freeze: str = "A2",
) -> bytes:
    """An Excel file whose text cells are stored as text, never as formulas."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = str(title)[:31]
    sheet.append([str(h) for h in header])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([None if v is None else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                # openpyxl would store "=..." as a formula; force the string type.
                cell.data_type = TYPE_STRING
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 50)
    sheet.freeze_panes = freeze
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_response(
    filename: str,
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    decimal_places: int = 2,
) -> HttpResponse:
    return file_response(
        write_csv(header, rows, decimal_places=decimal_places),
        filename=filename,
        content_type=CSV_TYPE,
    )


def xlsx_response(
    filename: str,
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    title: str = "Dati",
    freeze: str = "A2",
) -> HttpResponse:
    return file_response(
        write_xlsx(header, rows, title=title, freeze=freeze),
        filename=filename,
        content_type=XLSX_TYPE,
    )


class _Pipe:
    """A write-only file for zipfile that hands on what is written instead of keeping it.

    It has no tell(), so zipfile writes each member with a data descriptor and never seeks back:
    the archive can go out while it is being built.
    """

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data = b"".join(self._chunks)
        self._chunks.clear()
        return data


@dataclass(frozen=True)
class ZipMember:
    """One file of a streamed ZIP: its name in the archive, how to open it, its date."""

    name: str
    open: Callable[[], IO[bytes]]
    modified: dt.datetime


ZIP_CHUNK_BYTES = 64 * 1024


def stream_zip(members: Iterable[ZipMember]) -> Iterator[bytes]:
    """The bytes of a ZIP of `members`, produced piece by piece: one member is read at a time,
    in chunks, so memory stays flat however many files go in.

    Members are stored, not compressed: the files we zip (signed PDFs) are compressed already.
    """
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, mode="w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[arg-type]
        for member in members:
            info = zipfile.ZipInfo(member.name, date_time=member.modified.timetuple()[:6])
            with member.open() as source, archive.open(info, mode="w") as target:
                while chunk := source.read(ZIP_CHUNK_BYTES):
                    target.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
    yield pipe.drain()


def zip_response(filename: str, members: Iterable[ZipMember]) -> StreamingHttpResponse:
    """A streamed ZIP download (no Content-Length: it is known only at the end)."""
    return StreamingHttpResponse(
        stream_zip(members),
        content_type="application/zip",
        headers={"Content-Disposition": content_disposition_header(True, filename)},
    )
