"""Attendance reports of online meetings (Teams, Zoom, Google Meet) imported as attendance."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from attendance.imports import parse_attendance_file
from attendance.models import Attendance, AttendanceChange, Source
from attendance.reports import parse_duration
from attendance.services import AttendanceError, import_attendance_rows
from enrollment.models import Enrollment
from tests.factories import CourseFactory, EnrollmentFactory, SessionFactory

pytestmark = pytest.mark.django_db

REPORTS = Path(__file__).parent / "reports"
ANNA = "anna.bianchi@example.org"
BRUNO = "bruno.verdi@example.org"
CARLA = "carla.neri@example.org"


@pytest.fixture
def online_course():
    """Two online sessions on the reports' dates, two confirmed participants, one requested."""
    course = CourseFactory(sessions=0)
    SessionFactory(course=course, date=dt.date(2023, 7, 20), start=dt.time(14, 0))
    SessionFactory(course=course, date=dt.date(2022, 11, 15), start=dt.time(9, 0))
    EnrollmentFactory(course=course, user__email=ANNA)
    EnrollmentFactory(course=course, user__email=BRUNO)
    EnrollmentFactory(course=course, user__email=CARLA, status=Enrollment.Status.REQUESTED)
    return course


def preview_of(course, name: str, **kwargs):
    data = (REPORTS / name).read_bytes()
    return parse_attendance_file(course=course, data=data, filename=name, **kwargs)


def minutes_by_person(preview) -> dict[str, int | None]:
    return {row.person: row.derived_minutes for row in preview.valid_rows}


def errors_by_line(preview) -> dict[int, str]:
    return {row.line: row.error for row in preview.error_rows}


@pytest.mark.parametrize(
    ("name", "kind", "day", "expected"),
    [
        # Anna 13:55–15:00, 14:30–16:16:29, 17:00–18:05: clamped to 14–18 and merged, 196'.
        ("teams_en_lowercase.csv", "teams", dt.date(2023, 7, 20), {ANNA: 196, BRUNO: 220}),
        # "First Join" style; Bruno's two overlapping intervals 14:00–14:30, 14:20–15:30: 90'.
        ("teams_en_titlecase.csv", "teams", dt.date(2023, 7, 20), {ANNA: 180, BRUNO: 90}),
        # No activities section: first join to last leave, capped by the time in the meeting.
        ("teams_en_participants_only.csv", "teams", dt.date(2023, 7, 20), {ANNA: 240, BRUNO: 87}),
        # Italian Teams, day-first 24-hour dates; Bruno 09:30:17–12:00 counts 149 whole minutes.
        ("teams_it.csv", "teams", dt.date(2022, 11, 15), {ANNA: 210, BRUNO: 149}),
        # Old Zoom, with the meeting's details above; Anna overlapping up to the end: 240'.
        ("zoom_old.csv", "zoom", dt.date(2023, 7, 20), {ANNA: 240, BRUNO: 180}),
        ("zoom_new.csv", "zoom", dt.date(2023, 7, 20), {ANNA: 170, BRUNO: 240}),
        ("zoom_it.csv", "zoom", dt.date(2022, 11, 15), {ANNA: 210}),
    ],
)
def test_each_platform_report_gives_minutes_per_person_merged_and_clamped(
    online_course, name, kind, day, expected
):
    if kind == "teams":  # as Teams writes it: UTF-16 with a BOM, tab-separated
        assert (REPORTS / name).read_bytes().startswith(b"\xff\xfe")
    preview = preview_of(online_course, name)

    assert preview.file_format == kind
    assert preview.source == kind
    assert minutes_by_person(preview) == expected
    assert {row.session.date for row in preview.valid_rows} == {day}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("1h 27m 51s", 5271),
        ("3h 40m", 13200),
        ("50m", 3000),
        ("45s", 45),
        ("87", 5220),
        ("1 hr 27 min", 5220),
        ("1\u202fh 2\u202fmin", 3720),
        ("", None),
        ("circa un'ora", None),
    ],
)
def test_durations_as_the_platforms_write_them(text, seconds):
    duration = parse_duration(text)

    assert (duration.total_seconds() if duration is not None else None) == seconds


def test_a_teams_guest_without_email_is_listed_to_match_by_hand(online_course):
    preview = preview_of(online_course, "teams_en_lowercase.csv")

    assert errors_by_line(preview).keys() == {20}
    assert "Ospite Esterno" in errors_by_line(preview)[20]
    assert "a mano" in errors_by_line(preview)[20]


def test_zoom_guest_and_a_person_not_confirmed_are_refused_naming_the_line(online_course):
    old = preview_of(online_course, "zoom_old.csv")
    italian = preview_of(online_course, "zoom_it.csv")

    assert list(errors_by_line(old)) == [8]
    assert list(errors_by_line(italian)) == [4]
    assert "iscrizione confermata" in errors_by_line(italian)[4]


def test_meet_report_with_times_only_needs_the_date(online_course):
    # Meet writes a narrow no-break space before PM.
    assert "\u202fPM" in (REPORTS / "meet.csv").read_text(encoding="utf-8-sig")
    without = preview_of(online_course, "meet.csv")
    assert not without.valid_rows
    assert all("--date" in row.error for row in without.rows)

    preview = preview_of(online_course, "meet.csv", day=dt.date(2023, 7, 20))

    assert preview.file_format == "meet"
    # Bruno 13:50–15:27 clamped to the 14:00 start.
    assert minutes_by_person(preview) == {ANNA: 210, BRUNO: 87}


def test_a_report_of_another_day_names_the_line(online_course):
    preview = preview_of(online_course, "zoom_new.csv", day=dt.date(2023, 7, 21))

    assert not preview.valid_rows
    assert [row.line for row in preview.error_rows] == [2, 3, 4]
    assert "20/07/2023" in preview.rows[0].error and "21/07/2023" in preview.rows[0].error


def test_a_report_on_a_day_without_session_is_refused(online_course):
    online_course.sessions.filter(date=dt.date(2023, 7, 20)).delete()

    preview = preview_of(online_course, "teams_en_titlecase.csv")

    assert not preview.valid_rows
    assert "20/07/2023 non è una giornata del corso" in preview.rows[0].error


def test_an_unknown_utf16_layout_is_refused_with_a_clear_message(online_course):
    data = "Riunione\tqualcosa\r\nNome\tAltro\r\n".encode("utf-16")

    with pytest.raises(AttendanceError) as caught:
        parse_attendance_file(course=online_course, data=data, filename="report.csv")

    assert "Formato del file non riconosciuto" in caught.value.message


def test_the_import_records_the_platform_as_source_and_the_sha256(online_course, secretariat):
    preview = preview_of(online_course, "teams_it.csv")

    result = import_attendance_rows(
        rows=preview.rows,
        recorded_by=secretariat,
        file_name="teams_it.csv",
        file_sha256=preview.sha256,
        source=preview.source,
    )

    assert result.changed == 2
    sha = hashlib.sha256((REPORTS / "teams_it.csv").read_bytes()).hexdigest()
    changes = AttendanceChange.objects.all()
    assert {(c.source, c.file_sha256) for c in changes} == {(Source.TEAMS, sha)}
    assert {a.minutes for a in Attendance.objects.all()} == {210, 149}


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("import_attendance", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue(), str(exc)
    return 0, out.getvalue(), err.getvalue(), ""


def test_command_imports_a_meet_report_with_date(online_course):
    code, out, err, message = run(
        online_course.code, str(REPORTS / "meet.csv"), "--date", "2023-07-20"
    )

    assert (code, err, message) == (0, "", "")
    assert "Importate 2 presenze" in out
    assert sorted(Attendance.objects.values_list("minutes", flat=True)) == [87, 210]
    assert set(AttendanceChange.objects.values_list("source", flat=True)) == {Source.MEET}


def test_command_refuses_a_report_of_another_date_and_writes_nothing(online_course):
    code, out, err, message = run(
        online_course.code, str(REPORTS / "teams_en_titlecase.csv"), "--date", "2023-07-21"
    )

    assert code == 1
    assert err.splitlines()[0].startswith("Riga 16:")
    assert "nessuna presenza" in message
    assert not Attendance.objects.exists()


def test_command_refuses_a_person_not_confirmed_and_writes_nothing(online_course):
    code, out, err, message = run(online_course.code, str(REPORTS / "zoom_it.csv"))

    assert code == 1
    assert err.startswith("Riga 4:") and "iscrizione confermata" in err
    assert not Attendance.objects.exists()


def test_web_import_previews_a_teams_report_and_confirms_it(online_course, secretariat):
    client = Client()
    client.force_login(secretariat)
    url = reverse("attendance:import", kwargs={"slug": online_course.slug})
    data = (REPORTS / "teams_en_lowercase.csv").read_bytes()
    upload = io.BytesIO(data)
    upload.name = "meetingAttendanceReport(Corso).csv"

    assert client.post(url, {"action": "upload", "file": upload}).status_code == 302
    page = client.get(url).content.decode()

    assert ANNA in page and "196" in page and "220" in page
    assert "Ospite Esterno" in page
    sha = hashlib.sha256(data).hexdigest()
    client.post(url, {"action": "confirm", "sha256": sha})
    assert sorted(Attendance.objects.values_list("minutes", flat=True)) == [196, 220]
    assert set(AttendanceChange.objects.values_list("source", flat=True)) == {Source.TEAMS}


def test_web_import_of_a_meet_report_takes_the_session_date_from_the_form(
    online_course, secretariat
):
    client = Client()
    client.force_login(secretariat)
    url = reverse("attendance:import", kwargs={"slug": online_course.slug})
    data = (REPORTS / "meet.csv").read_bytes()
    upload = io.BytesIO(data)
    upload.name = "Presenze Meet.csv"

    response = client.post(url, {"action": "upload", "file": upload, "date": "2023-07-20"})
    assert response.status_code == 302
    page = client.get(url).content.decode()

    assert "OK: 210 minuti" in page and "OK: 87 minuti" in page
    client.post(url, {"action": "confirm", "sha256": hashlib.sha256(data).hexdigest()})
    assert sorted(Attendance.objects.values_list("minutes", flat=True)) == [87, 210]
    assert set(AttendanceChange.objects.values_list("source", flat=True)) == {Source.MEET}


def test_an_unreadable_time_is_refused_naming_the_line(online_course, tmp_path):
    path = tmp_path / "participants_812.csv"
    path.write_text(
        "Name (original name),Email,Join time,Leave time,Duration (minutes),Guest\n"
        f"Anna Bianchi,{ANNA},07/20/2023 02:00:00 PM,07/20/2023 04:00:00 PM,120,No\n"
        f"Bruno Verdi,{BRUNO},07/20/2023 02:00:00 PM,più tardi,240,No\n",
        encoding="utf-8",
    )

    code, out, err, message = run(online_course.code, str(path))

    assert code == 1
    assert err.startswith("Riga 3:") and "«più tardi»" in err
    assert not Attendance.objects.exists()
