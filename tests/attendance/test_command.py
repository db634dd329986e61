from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from attendance.models import Attendance, AttendanceChange, Source
from tests.factories import EnrollmentFactory


@pytest.fixture
def attendance_file(tmp_path, course, sessions):
    EnrollmentFactory(course=course, user__email="anna@example.org")
    EnrollmentFactory(course=course, user__email="bruno@example.org")
    path = tmp_path / "presenze.csv"
    path.write_text(
        "email;data;minuti\n"
        f"anna@example.org;{sessions[0].date:%d/%m/%Y};240\n"
        f"nobody@example.org;{sessions[0].date:%d/%m/%Y};240\n"
        f"bruno@example.org;{sessions[0].date:%d/%m/%Y};999\n"
        f"bruno@example.org;{sessions[1].date:%d/%m/%Y};180\n",
        encoding="utf-8",
    )
    return path


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_attendance", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue(), ""


def test_bad_rows_are_listed_with_their_line_and_nothing_is_written(course, attendance_file):
    code, out, err, message = run(course.code, str(attendance_file))

    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Riga 3:") and "sconosciuta" in lines[0]
    assert lines[1].startswith("Riga 4:") and "tra 0 e 240" in lines[1]
    assert "nessuna presenza" in message
    assert not Attendance.objects.exists()


def test_valid_only_writes_the_good_rows_and_still_fails(course, attendance_file, secretariat):
    code, out, err, message = run(
        course.code, str(attendance_file), "--valid-only", "--by", secretariat.email
    )

    assert code == 1
    assert "Riga 3:" in err and "Riga 4:" in err
    assert "Importate 2 presenze" in out
    assert sorted(Attendance.objects.values_list("minutes", flat=True)) == [180, 240]
    changes = AttendanceChange.objects.all()
    assert {c.source for c in changes} == {Source.IMPORT}
    assert {c.changed_by for c in changes} == {secretariat}
    assert all(len(c.file_sha256) == 64 for c in changes)


def test_a_clean_file_succeeds(course, sessions, tmp_path):
    EnrollmentFactory(course=course, user__email="anna@example.org")
    path = tmp_path / "ok.csv"
    path.write_text(f"email,date,entry,exit\nanna@example.org,{sessions[2].date},09:00,12:00\n")

    code, out, err, _ = run(course.code, str(path))

    assert (code, err) == (0, "")
    assert Attendance.objects.get().minutes == 180


def test_an_unknown_course_fails(db, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("email,date,minutes\n")
    code, *_, message = run("NOPE/1", str(path))
    assert code == 1 and "Corso sconosciuto" in message
