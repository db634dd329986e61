"""CSV and Excel downloads that cannot turn a cell into a formula."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from defusedcsv import csv
from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell.cell import TYPE_STRING

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]
) -> HttpResponse:
    """A CSV for Italian Excel: UTF-8 with BOM, semicolons; defusedcsv escapes =, +, -, @."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response, delimiter=";")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return response


def xlsx_response(
    filename: str, header: Sequence[str], rows: Iterable[Sequence[object]], *, title: str = "Dati"
) -> HttpResponse:
    """An Excel file whose text cells are stored as text, never as formulas."""
    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = title[:31]
    sheet.append(list(header))
    for row in rows:
        sheet.append([None if v is None else v for v in row])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                # openpyxl would store "=..." as a formula; force the string type.
                cell.data_type = TYPE_STRING
    for column in sheet.columns:
        width = max(len(str(c.value or "")) for c in column)
        sheet.column_dimensions[column[0].column_letter].width = min(max(width + 2, 10), 50)
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
