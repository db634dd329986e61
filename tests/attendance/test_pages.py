from __future__ import annotations

import datetime as dt
import hashlib
import io
import re

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from attendance.models import Attendance, AttendanceChange, Source
from attendance.services import record_attendance
from enrollment.models import Enrollment
from tests.attendance.factories import AttendanceFactory
from tests.factories import CourseFactory, EnrollmentFactory, ParticipantFactory
from tests.web.boxes import render_progress_box


@pytest.fixture
def secretariat_client(secretariat):
    client = Client()
    client.force_login(secretariat)
    return client


def secretariat_urls(course, session, enrollment):
    return [
        reverse("attendance:summary", kwargs={"slug": course.slug}),
        reverse("attendance:export_csv", kwargs={"slug": course.slug}),
        reverse("attendance:export_xlsx", kwargs={"slug": course.slug}),
        reverse("attendance:import", kwargs={"slug": course.slug}),
        reverse("attendance:register", kwargs={"pk": session.pk}),
        reverse("attendance:sign_in_sheet", kwargs={"pk": session.pk}),
        reverse("attendance:history", kwargs={"pk": enrollment.pk}),
    ]


# --- permissions -------------------------------------------------------------------------------


def test_secretariat_pages_send_anonymous_visitors_to_the_login(client, enrollment, sessions):
    for url in secretariat_urls(enrollment.course, sessions[0], enrollment):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login")), url


def test_secretariat_pages_are_forbidden_to_participants(client, enrollment, sessions):
    client.force_login(enrollment.user)
    for url in secretariat_urls(enrollment.course, sessions[0], enrollment):
        assert client.get(url).status_code == 403, url
        assert client.post(url).status_code == 403, url


def test_secretariat_pages_need_staff_as_well_as_the_permission(client, enrollment, sessions):
    user = ParticipantFactory()
    user.user_permissions.add(Permission.objects.get(codename="record_attendance"))
    client.force_login(user)
    for url in secretariat_urls(enrollment.course, sessions[0], enrollment):
        assert client.get(url).status_code == 403, url


def test_staff_without_the_permission_is_forbidden(client, enrollment, sessions):
    client.force_login(ParticipantFactory(is_staff=True))
    for url in secretariat_urls(enrollment.course, sessions[0], enrollment):
        assert client.get(url).status_code == 403, url


def test_secretariat_pages_open_for_the_secretariat(secretariat_client, enrollment, sessions):
    for url in secretariat_urls(enrollment.course, sessions[0], enrollment):
        assert secretariat_client.get(url).status_code == 200, url


def test_participant_view_is_only_for_the_participant(client, enrollment):
    url = reverse("attendance:my", kwargs={"slug": enrollment.course.slug})
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))

    client.force_login(enrollment.user)
    assert client.get(url).status_code == 200

    # Someone else sees their own attendance at this URL, or nothing.
    client.force_login(ParticipantFactory())
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("status", [Enrollment.Status.REQUESTED, Enrollment.Status.CANCELLED])
def test_participant_view_is_not_found_unless_confirmed(client, course, status):
    enrollment = EnrollmentFactory(course=course, status=status)
    client.force_login(enrollment.user)
    assert client.get(reverse("attendance:my", kwargs={"slug": course.slug})).status_code == 404


def test_participant_sees_only_their_own_minutes(client, course, sessions, secretariat):
    mine, theirs = EnrollmentFactory(course=course), EnrollmentFactory(course=course)
    record_attendance(
        enrollment=mine, session=sessions[0], minutes=123, recorded_by=secretariat, source="admin"
    )
    record_attendance(
        enrollment=theirs, session=sessions[0], minutes=77, recorded_by=secretariat, source="admin"
    )
    client.force_login(mine.user)
    html = client.get(reverse("attendance:my", kwargs={"slug": course.slug})).content.decode()
    assert "2 h 3 min" in html
    assert "1 h 17 min" not in html
    assert "Soglia minima di frequenza (80%, cioè 9 h 36 min) non ancora raggiunta" in html


# --- participant progress ----------------------------------------------------------------------


def test_progress_box_for_a_confirmed_participant(enrollment, sessions, secretariat, rf):
    for session in sessions[:2]:
        record_attendance(
            enrollment=enrollment,
            session=session,
            minutes=240,
            recorded_by=secretariat,
            source=Source.REGISTER,
        )
    html = render_progress_box(enrollment.course, enrollment.user)
    assert "<strong>8 h</strong> su 12 h (66,6%)" in html
    assert 'aria-valuenow="66"' in html
    assert reverse("attendance:my", kwargs={"slug": enrollment.course.slug}) in html


def test_progress_box_is_empty_for_anyone_else(course):
    from django.contrib.auth.models import AnonymousUser

    for user in (AnonymousUser(), ParticipantFactory()):
        assert render_progress_box(course, user).strip() == ""


# --- register ----------------------------------------------------------------------------------


def register_data(rows: dict[int, dict[str, str]]) -> dict[str, str]:
    data = {}
    for pk, fields in rows.items():
        for name, value in fields.items():
            data[f"r{pk}-{name}"] = value
    return data


def test_a_whole_session_is_recorded_in_one_submit(secretariat_client, course, sessions):
    a, b, c, d = (EnrollmentFactory(course=course) for _ in range(4))
    url = reverse("attendance:register", kwargs={"pk": sessions[0].pk})
    html = secretariat_client.get(url).content.decode()
    assert f'for="id_r{a.pk}-entry"' in html  # every input is labelled

    response = secretariat_client.post(
        url,
        register_data(
            {
                a.pk: {"mode": "full"},
                b.pk: {"mode": "absent"},
                c.pk: {"mode": "", "entry": "09:40", "exit": "13:30"},  # mode inferred
                d.pk: {"mode": "minutes", "minutes": "90"},
            }
        ),
    )

    assert response.status_code == 302
    minutes = dict(Attendance.objects.values_list("enrollment_id", "minutes"))
    assert minutes == {a.pk: 240, b.pk: 0, c.pk: 200, d.pk: 90}
    changes = AttendanceChange.objects.all()
    assert len(changes) == 4
    assert {ch.source for ch in changes} == {Source.REGISTER}


def test_a_bad_row_shows_its_error_in_place_and_keeps_the_other_rows(
    secretariat_client, course, sessions
):
    good, bad = EnrollmentFactory(course=course), EnrollmentFactory(course=course)
    url = reverse("attendance:register", kwargs={"pk": sessions[0].pk})

    response = secretariat_client.post(
        url,
        register_data(
            {
                good.pk: {"mode": "times", "entry": "09:10", "exit": "12:50"},
                bad.pk: {"mode": "minutes", "minutes": "241"},
            }
        ),
    )

    assert response.status_code == 400
    assert not Attendance.objects.exists()
    html = response.content.decode()
    assert 'value="09:10"' in html and 'value="12:50"' in html
    assert 'value="241"' in html
    row_start = html.index(f'id="r{bad.pk}-row"')
    assert "tra 0 e 240" in html[row_start : row_start + 1500]
    good_start = html.index(f'id="r{good.pk}-row"')
    assert "tra 0 e 240" not in html[good_start : good_start + 1500]


def test_a_malformed_time_is_reported_on_its_row(secretariat_client, course, sessions):
    person = EnrollmentFactory(course=course)
    response = secretariat_client.post(
        reverse("attendance:register", kwargs={"pk": sessions[0].pk}),
        register_data({person.pk: {"mode": "times", "entry": "nove", "exit": "12:00"}}),
    )
    assert response.status_code == 400
    assert not Attendance.objects.exists()


def test_prefill_marks_unrecorded_rows_as_present(secretariat_client, course, sessions):
    person = EnrollmentFactory(course=course)
    url = reverse("attendance:register", kwargs={"pk": sessions[0].pk})
    full_checked = re.compile(rf'name="r{person.pk}-mode" value="full"[^>]*checked')
    assert not full_checked.search(secretariat_client.get(url).content.decode())
    assert full_checked.search(secretariat_client.get(url + "?prefill=full").content.decode())


# --- import through the pages ------------------------------------------------------------------


def test_upload_preview_then_confirm_writes_only_valid_rows(
    secretariat_client, secretariat, course, sessions
):
    EnrollmentFactory(course=course, user__email="anna@example.org")
    url = reverse("attendance:import", kwargs={"slug": course.slug})
    content = (
        "email;data;minuti\n"
        f"anna@example.org;{sessions[0].date:%d/%m/%Y};200\n"
        f"nobody@example.org;{sessions[0].date:%d/%m/%Y};200\n"
    ).encode()
    upload = io.BytesIO(content)
    upload.name = "presenze.csv"

    response = secretariat_client.post(url, {"action": "upload", "file": upload})
    assert response.status_code == 302
    assert not Attendance.objects.exists()

    preview = secretariat_client.get(url).content.decode()
    assert "Persona sconosciuta" in preview
    assert "Importa 1 riga valida" in preview
    assert not Attendance.objects.exists()

    sha = hashlib.sha256(content).hexdigest()
    response = secretariat_client.post(url, {"action": "confirm", "sha256": sha})
    assert response.status_code == 302
    assert Attendance.objects.get().minutes == 200
    change = AttendanceChange.objects.get()
    assert (change.source, change.file_sha256, change.changed_by) == (
        Source.IMPORT,
        sha,
        secretariat,
    )
    # The pending file is gone: confirming twice does nothing.
    secretariat_client.post(url, {"action": "confirm", "sha256": sha})
    assert AttendanceChange.objects.count() == 1


def test_confirm_with_another_files_hash_writes_nothing(secretariat_client, course, sessions):
    EnrollmentFactory(course=course, user__email="anna@example.org")
    url = reverse("attendance:import", kwargs={"slug": course.slug})
    upload = io.BytesIO(f"email,date,minutes\nanna@example.org,{sessions[0].date},60\n".encode())
    upload.name = "a.csv"
    secretariat_client.post(url, {"action": "upload", "file": upload})
    secretariat_client.post(url, {"action": "confirm", "sha256": "0" * 64})
    assert not Attendance.objects.exists()


def test_upload_rejects_a_file_that_is_not_what_its_name_says(secretariat_client, course):
    url = reverse("attendance:import", kwargs={"slug": course.slug})
    upload = io.BytesIO(b"email,date,minutes\n")
    upload.name = "presenze.xlsx"
    response = secretariat_client.post(url, {"action": "upload", "file": upload})
    assert response.status_code == 400
    assert "non è un foglio Excel" in response.content.decode()


def test_cancel_discards_the_pending_file(secretariat_client, course, sessions):
    EnrollmentFactory(course=course, user__email="anna@example.org")
    url = reverse("attendance:import", kwargs={"slug": course.slug})
    upload = io.BytesIO(f"email,date,minutes\nanna@example.org,{sessions[0].date},60\n".encode())
    upload.name = "a.csv"
    secretariat_client.post(url, {"action": "upload", "file": upload})
    secretariat_client.post(url, {"action": "cancel"})
    assert "Anteprima" not in secretariat_client.get(url).content.decode()


# --- summary and exports -----------------------------------------------------------------------


def test_summary_shows_the_grid_with_threshold(secretariat_client, course, sessions, secretariat):
    passing, failing = EnrollmentFactory(course=course), EnrollmentFactory(course=course)
    for minutes, session in zip((240, 240, 96), sessions, strict=True):
        record_attendance(
            enrollment=passing,
            session=session,
            minutes=minutes,
            recorded_by=secretariat,
            source=Source.REGISTER,
        )
    for minutes, session in zip((240, 240, 95), sessions, strict=True):
        record_attendance(
            enrollment=failing,
            session=session,
            minutes=minutes,
            recorded_by=secretariat,
            source=Source.REGISTER,
        )
    html = secretariat_client.get(
        reverse("attendance:summary", kwargs={"slug": course.slug})
    ).content.decode()
    assert "576" in html and "575" in html
    assert "80,0" in html and "79,8" in html
    assert "1 partecipante su 2 ha raggiunto la soglia" in html


def _grid_queries(client, course, n, django_assert_max_num_queries):
    for _ in range(n):
        AttendanceFactory(session=course.sessions.first(), enrollment__course=course)
    url = reverse("attendance:summary", kwargs={"slug": course.slug})
    client.get(url)  # not counted: the first request loads the user, later ones the cache
    with django_assert_max_num_queries(12) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_summary_queries_do_not_grow_with_participants(
    secretariat_client, django_assert_max_num_queries
):
    few = _grid_queries(secretariat_client, CourseFactory(), 5, django_assert_max_num_queries)
    many = _grid_queries(secretariat_client, CourseFactory(), 30, django_assert_max_num_queries)
    assert few == many


@pytest.mark.parametrize("name", ["export_csv", "export_xlsx"])
def test_exports_queries_do_not_grow_with_participants(
    secretariat_client, django_assert_max_num_queries, name
):
    counts = []
    for n in (5, 30):
        course = CourseFactory()
        for _ in range(n):
            AttendanceFactory(session=course.sessions.first(), enrollment__course=course)
        url = reverse(f"attendance:{name}", kwargs={"slug": course.slug})
        secretariat_client.get(url)  # not counted: the first request loads the user
        with django_assert_max_num_queries(12) as captured:
            assert secretariat_client.get(url).status_code == 200
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


@pytest.fixture
def hostile(course, sessions, secretariat):
    """A participant whose name is a spreadsheet formula."""
    enrollment = EnrollmentFactory(
        course=course, user__first_name='=HYPERLINK("http://x")', user__last_name="+SUM(1)"
    )
    record_attendance(
        enrollment=enrollment,
        session=sessions[0],
        minutes=240,
        recorded_by=secretariat,
        source=Source.REGISTER,
    )
    return enrollment


def test_csv_export_neutralises_formulas(secretariat_client, course, hostile):
    response = secretariat_client.get(
        reverse("attendance:export_csv", kwargs={"slug": course.slug})
    )
    assert response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    header, row = text.splitlines()[:2]
    assert header.startswith("Cognome;Nome;Codice fiscale;E-mail;Minuti ")
    assert "'+SUM(1)" in row and "'=HYPERLINK" in row
    assert hostile.user.profile.codice_fiscale in row
    assert row.endswith(";240;720;33,3;No")


def test_xlsx_export_writes_text_as_text(secretariat_client, course, hostile):
    response = secretariat_client.get(
        reverse("attendance:export_xlsx", kwargs={"slug": course.slug})
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    row = sheet[2]
    assert header[:4] == ["Cognome", "Nome", "Codice fiscale", "E-mail"]
    assert row[0].value == "+SUM(1)" and row[0].data_type == "s"
    assert row[1].value.startswith("=HYPERLINK") and row[1].data_type == "s"
    assert row[4].value == 240 and row[4].data_type == "n"
    assert [c.value for c in row[-4:]] == [240, 720, 33.3, "No"]


# --- sign-in sheet and history -----------------------------------------------------------------


def test_sign_in_sheet_is_a_pdf_with_the_participants(secretariat_client, enrollment, sessions):
    response = secretariat_client.get(
        reverse("attendance:sign_in_sheet", kwargs={"pk": sessions[0].pk})
    )
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_sign_in_sheet_fetches_nothing(enrollment, sessions, rf, monkeypatch):
    import urllib.request

    from attendance import documents

    opened = []

    def spy(self, url, *args, **kwargs):
        opened.append(url)
        raise OSError("no network in tests")

    # Whatever ends up in the HTML, WeasyPrint must not open a URL or a local file.
    monkeypatch.setattr(urllib.request.OpenerDirector, "open", spy)
    monkeypatch.setattr(
        documents,
        "render_to_string",
        lambda *a, **k: (
            '<link rel="stylesheet" href="http://127.0.0.1:1/x.css">'
            '<img src="file:///etc/passwd"><img src="http://169.254.169.254/latest">'
        ),
    )
    pdf = documents.render_sign_in_sheet(
        session=sessions[0], participants=[enrollment], request=rf.get("/")
    )
    assert pdf.startswith(b"%PDF")
    assert opened == []


def test_history_lists_every_change_with_its_source(secretariat_client, enrollment, sessions):
    client_user = secretariat_client
    record_attendance(
        enrollment=enrollment,
        session=sessions[0],
        minutes=100,
        recorded_by=None,
        source=Source.IMPORT,
        source_detail="presenze.csv",
        file_sha256="a" * 64,
    )
    record_attendance(
        enrollment=enrollment,
        session=sessions[0],
        entry=dt.time(9),
        exit=dt.time(12),
        recorded_by=None,
        source=Source.ADMIN,
    )
    html = client_user.get(
        reverse("attendance:history", kwargs={"pk": enrollment.pk})
    ).content.decode()
    assert "Importazione da file" in html and "a" * 64 in html and "presenze.csv" in html
    assert "Amministrazione" in html
    assert "100 min" in html and "180 min (09.00–12.00)" in html


# --- admin -------------------------------------------------------------------------------------


def test_admin_edits_go_through_the_service_and_are_audited(client, enrollment, sessions):
    from accounts.models import User

    admin_user = User.objects.create_superuser("admin@example.org", "pw-Admin-42")
    client.force_login(admin_user)
    response = client.post(
        reverse("admin:attendance_attendance_add"),
        {
            "enrollment": enrollment.pk,
            "session": sessions[0].pk,
            "minutes": "",
            "entry": "08:00",
            "exit": "11:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    row = Attendance.objects.get()
    assert row.minutes == 120  # clamped to the 9:00 start
    change = AttendanceChange.objects.get()
    assert (change.source, change.changed_by) == (Source.ADMIN, admin_user)

    response = client.post(
        reverse("admin:attendance_attendance_change", args=[row.pk]),
        {"minutes": "241", "entry": "", "exit": ""},
    )
    assert response.status_code == 200  # the form shows the error
    assert "tra 0 e 240" in response.content.decode()
    response = client.post(
        reverse("admin:attendance_attendance_change", args=[row.pk]),
        {"minutes": "30", "entry": "", "exit": ""},
    )
    assert response.status_code == 302
    assert Attendance.objects.get().minutes == 30
    assert AttendanceChange.objects.filter(source=Source.ADMIN).count() == 2


def test_admin_refuses_unconfirmed_enrolments(client, course, sessions):
    from accounts.models import User

    client.force_login(User.objects.create_superuser("admin@example.org", "pw-Admin-42"))
    waiting = EnrollmentFactory(course=course, status=Enrollment.Status.WAITLISTED)
    response = client.post(
        reverse("admin:attendance_attendance_add"),
        {"enrollment": waiting.pk, "session": sessions[0].pk, "minutes": "60"},
    )
    assert response.status_code == 200
    assert not Attendance.objects.exists()


def test_audit_entries_cannot_be_edited_in_the_admin(client, db):
    from accounts.models import User

    row = AttendanceFactory()
    change = AttendanceChange.objects.create(
        attendance=row, changed_at=row.recorded_at, source=Source.ADMIN, new_minutes=1
    )
    client.force_login(User.objects.create_superuser("admin@example.org", "pw-Admin-42"))
    url = reverse("admin:attendance_attendancechange_change", args=[change.pk])
    client.post(url, {"new_minutes": "999"})
    change.refresh_from_db()
    assert change.new_minutes == 1
    assert client.get(reverse("admin:attendance_attendancechange_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:attendance_attendancechange_delete", args=[change.pk])
        ).status_code
        == 403
    )
