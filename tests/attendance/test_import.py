from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from attendance.imports import file_sha256, parse_attendance_file
from attendance.models import Attendance, AttendanceChange, Source
from attendance.services import AttendanceError, import_attendance_rows
from enrollment.models import Enrollment
from tests.factories import CourseFactory, EnrollmentFactory, ParticipantFactory, SessionFactory


@pytest.fixture
def people(course):
    """Two confirmed participants, one waiting for confirmation, one not enrolled at all."""
    return {
        "anna": EnrollmentFactory(course=course, user__email="anna@example.org"),
        "bruno": EnrollmentFactory(course=course, user__email="bruno@example.org"),
        "carla": EnrollmentFactory(
            course=course, user__email="carla@example.org", status=Enrollment.Status.REQUESTED
        ),
        "dario": ParticipantFactory(email="dario@example.org"),
    }


def csv_bytes(lines: list[str], *, bom: bool = False, sep: str = ",") -> bytes:
    text = "\r\n".join(line.replace(",", sep) for line in lines) + "\r\n"
    return (("\ufeff" if bom else "") + text).encode("utf-8")


def test_a_file_with_good_and_bad_rows_reports_every_error_with_its_line(
    course, sessions, people, secretariat
):
    d1, d2 = (s.date.isoformat() for s in sessions[:2])
    other_day = (sessions[0].date + dt.timedelta(days=1)).isoformat()
    anna_cf = people["anna"].user.profile.codice_fiscale
    data = csv_bytes(
        [
            "email,codice_fiscale,date,entry,exit,minutes",
            f"anna@example.org,,{d1},09:00,13:00,",  # 2 good
            f",{anna_cf},{d2},,,200",  # 3 good (by codice fiscale)
            f"nobody@example.org,,{d1},09:00,13:00,",  # 4 unknown person
            f"carla@example.org,,{d1},09:00,13:00,",  # 5 not confirmed
            f"dario@example.org,,{d1},09:00,13:00,",  # 6 not enrolled
            f"bruno@example.org,,{other_day},09:00,13:00,",  # 7 not a session day
            f"bruno@example.org,,{d1},,,241",  # 8 above the session's length
            f"bruno@example.org,,{d2},9h,13:00,",  # 9 malformed time
            f"bruno@example.org,,{d1.replace('-', '/')},,,10",  # 10 malformed date
            f"anna@example.org,,{sessions[2].date:%d/%m/%Y},,,100",  # 11 duplicate of 12
            f"anna@example.org,,{sessions[2].date.isoformat()},,,120",  # 12 duplicate of 11
        ]
    )

    preview = parse_attendance_file(course=course, data=data, filename="presenze.csv")

    errors = {row.line: row.error for row in preview.error_rows}
    assert [row.line for row in preview.valid_rows] == [2, 3]
    assert sorted(errors) == [4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert "sconosciuta" in errors[4]
    assert "confermata" in errors[5] and "confermata" in errors[6]
    assert "non è una giornata" in errors[7]
    assert "tra 0 e 240" in errors[8]
    assert "Orario non valido" in errors[9]
    assert "Data non valida" in errors[10]
    assert "duplicata" in errors[11] and "12" in errors[11]
    assert "duplicata" in errors[12] and "11" in errors[12]

    # Without --valid-only, nothing is written.
    with pytest.raises(AttendanceError) as caught:
        import_attendance_rows(
            rows=preview.rows,
            recorded_by=secretariat,
            file_name="presenze.csv",
            file_sha256=preview.sha256,
        )
    assert sorted(caught.value.row_errors) == sorted(errors)
    assert not Attendance.objects.exists()

    # Confirmed: only the valid rows, audited with the file's hash.
    result = import_attendance_rows(
        rows=preview.rows,
        recorded_by=secretariat,
        file_name="presenze.csv",
        file_sha256=preview.sha256,
        valid_only=True,
    )
    assert (result.changed, result.unchanged) == (2, 0)
    assert sorted(Attendance.objects.values_list("minutes", flat=True)) == [200, 240]
    changes = AttendanceChange.objects.all()
    assert len(changes) == 2
    assert {c.source for c in changes} == {Source.IMPORT}
    assert {c.file_sha256 for c in changes} == {file_sha256(data)}
    assert {c.source_detail for c in changes} == {"presenze.csv"}
    assert {c.changed_by for c in changes} == {secretariat}


def test_an_import_that_changes_a_row_is_audited_with_old_and_new_values(
    course, sessions, people, secretariat
):
    for minutes in (100, 150):
        data = csv_bytes(["email,date,minutes", f"anna@example.org,{sessions[0].date},{minutes}"])
        preview = parse_attendance_file(course=course, data=data, filename="a.csv")
        import_attendance_rows(
            rows=preview.rows,
            recorded_by=secretariat,
            file_name="a.csv",
            file_sha256=preview.sha256,
        )
    change = AttendanceChange.objects.order_by("-pk").first()
    assert (change.old_minutes, change.new_minutes) == (100, 150)
    assert change.file_sha256 == file_sha256(data)


def test_italian_excel_csv_with_bom_semicolons_and_italian_headers(course, sessions, people):
    data = csv_bytes(
        [
            "Email;Data;Entrata;Uscita",
            f"ANNA@example.org;{sessions[0].date:%d/%m/%Y};09.15;12:45",
        ],
        bom=True,
        sep=";",
    )
    preview = parse_attendance_file(course=course, data=data, filename="PRESENZE.CSV")
    [row] = preview.rows
    assert not row.errors
    assert row.enrollment == people["anna"]
    assert row.derived_minutes == 210


def test_windows_1252_csv_is_read(course, sessions, people):
    text = f"email;data;minuti;note\r\nanna@example.org;{sessions[0].date};60;però\r\n"
    preview = parse_attendance_file(
        course=course, data=text.encode("cp1252"), filename="presenze.csv"
    )
    assert preview.valid_rows


def test_xlsx_import_with_date_and_time_cells(course, sessions, people, secretariat):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["E-mail", "Codice fiscale", "Data", "Entrata", "Uscita"])
    cf = people["bruno"].user.profile.codice_fiscale
    sheet.append([None, cf, sessions[1].date, dt.time(9), dt.time(11)])
    sheet.append(["anna@example.org", None, f"{sessions[1].date:%d/%m/%Y}", "10:00", "13:00"])
    sheet.append(["nobody@example.org", None, sessions[1].date, "10:00", "13:00"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    data = buffer.getvalue()

    preview = parse_attendance_file(course=course, data=data, filename="presenze.xlsx")

    assert preview.file_format == "xlsx"
    assert [r.line for r in preview.valid_rows] == [2, 3]
    assert [r.line for r in preview.error_rows] == [4]
    import_attendance_rows(
        rows=preview.rows,
        recorded_by=secretariat,
        file_name="presenze.xlsx",
        file_sha256=preview.sha256,
        valid_only=True,
    )
    minutes = dict(Attendance.objects.values_list("enrollment__user__email", "minutes"))
    assert minutes == {people["bruno"].user.email: 120, "anna@example.org": 180}
    assert AttendanceChange.objects.filter(file_sha256=file_sha256(data)).count() == 2


def test_a_date_with_two_sessions_is_ambiguous(people, secretariat):
    course = CourseFactory(sessions=0)
    day = dt.date(2030, 1, 10)
    SessionFactory(course=course, date=day, start=dt.time(9), end=dt.time(13))
    SessionFactory(course=course, date=day, start=dt.time(14), end=dt.time(17))
    EnrollmentFactory(course=course, user=people["dario"])
    data = csv_bytes(["email,date,minutes", f"dario@example.org,{day},60"])
    [row] = parse_attendance_file(course=course, data=data, filename="a.csv").rows
    assert "più giornate" in row.error


def test_times_and_minutes_on_the_same_row_are_refused(course, sessions, people):
    data = csv_bytes(
        ["email,date,entry,exit,minutes", f"anna@example.org,{sessions[0].date},09:00,10:00,60"]
    )
    [row] = parse_attendance_file(course=course, data=data, filename="a.csv").rows
    assert "non entrambi" in row.error


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("presenze.txt", b"email,date,minutes\n", "Sono accettati solo"),
        ("presenze.xlsx", b"email,date,minutes\n", "non è un foglio Excel"),
        ("presenze.csv", b"PK\x03\x04binary", "non è un testo CSV"),
        ("presenze.csv", b"email,date,minutes\x00\n", "non è un testo CSV"),
        ("presenze.csv", b"", "vuoto"),
        ("presenze.csv", b"nome,date,minutes\nx,2030-01-01,1\n", "«email» o «codice_fiscale»"),
        ("presenze.csv", b"email,minutes\nx,1\n", "«date»"),
        ("presenze.csv", b"email,date,entry\nx,2030-01-01,09:00\n", "«minutes»"),
    ],
)
def test_bad_files_are_refused_as_a_whole(course, filename, data, message):
    with pytest.raises(AttendanceError, match=message):
        parse_attendance_file(course=course, data=data, filename=filename)


def test_a_file_over_2_mb_is_refused(course):
    data = b"email,date,minutes\n" + b"x" * (2 * 1024 * 1024)
    with pytest.raises(AttendanceError, match="2 MB"):
        parse_attendance_file(course=course, data=data, filename="big.csv")


def test_an_xlsx_that_inflates_too_much_is_refused(course, monkeypatch):
    from attendance import imports

    workbook = openpyxl.Workbook()
    workbook.active.append(["email", "date", "minutes"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    monkeypatch.setattr(imports, "MAX_XLSX_UNCOMPRESSED_BYTES", 1000)
    with pytest.raises(AttendanceError, match="troppo grande"):
        parse_attendance_file(course=course, data=buffer.getvalue(), filename="a.xlsx")


def test_rows_gone_stale_after_the_preview_are_not_written(course, sessions, people, secretariat):
    data = csv_bytes(["email,date,minutes", f"anna@example.org,{sessions[0].date},60"])
    preview = parse_attendance_file(course=course, data=data, filename="a.csv")
    Enrollment.objects.filter(pk=people["anna"].pk).update(status=Enrollment.Status.CANCELLED)
    with pytest.raises(AttendanceError) as caught:
        import_attendance_rows(
            rows=preview.rows,
            recorded_by=secretariat,
            file_name="a.csv",
            file_sha256=preview.sha256,
            valid_only=True,
        )
    assert list(caught.value.row_errors) == [2]
    assert not Attendance.objects.exists()
