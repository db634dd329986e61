"""One CSV writer, one XLSX writer and one download response for every export."""

from __future__ import annotations

import io

import openpyxl

from core.exports import file_response, write_csv, write_xlsx


def test_csv_is_for_italian_excel_and_cannot_hold_a_formula():
    data = write_csv(["Nome", "Ore"], [["=HYPERLINK(1)", 9.6], [None, 12.0]], decimal_places=1)

    assert data.startswith("\ufeff".encode())
    assert data.decode("utf-8-sig").splitlines() == ["Nome;Ore", "'=HYPERLINK(1);9,6", ";12,0"]


def test_xlsx_stores_text_as_text_and_numbers_as_numbers():
    data = write_xlsx(["Nome", "Ore"], [["+SUM(1)", 9.6]], title="Prova")

    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Prova"
    name, hours = sheet[2]
    assert (name.value, name.data_type) == ("+SUM(1)", "s")
    assert (hours.value, hours.data_type) == (9.6, "n")


def test_file_response_names_the_file_even_outside_ascii():
    assert (
        file_response(b"x", filename="a.csv", content_type="text/csv")["Content-Disposition"]
        == 'attachment; filename="a.csv"'
    )
    assert file_response(b"x", filename="attività.pdf", content_type="x", inline=True)[
        "Content-Disposition"
    ] == ("inline; filename*=utf-8''attivit%C3%A0.pdf")
