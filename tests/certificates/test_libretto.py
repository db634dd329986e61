"""Il libretto formativo: the participant's record by triennium, its files, the secretariat's
search and the triennium export for the Ordine."""

from __future__ import annotations

import datetime as dt
import io
import json
from zoneinfo import ZoneInfo

import pikepdf
import pytest
import time_machine
from defusedcsv import csv
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Profession
from certificates.libretto import Outcome, get_libretto, triennium_start
from certificates.services import issue_certificate
from certificates.signing import verify_p7m
from courses.models import CreditKind
from tests.certificates.conftest import (
    attend,
    complete_questionnaire,
    openssl_verify,
    pdf_text,
    requires_openssl,
)
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ParticipantFactory,
    SecretariatFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

ROME = ZoneInfo("Europe/Rome")
# The moment the record is looked at: the 2029–2031 triennium is under way.
IN_2030 = dt.datetime(2030, 3, 1, 12, 0, tzinfo=ROME)


def course_on(*days: dt.date, credits: int | None = None, kind: str = "", **kwargs):
    """A course whose 4-hour sessions fall on `days`, granting `credits` FCO.AS credits."""
    course = CourseFactory(
        sessions=0,
        grants_fcoas_credits=credits is not None,
        fcoas_credits=credits,
        fcoas_credit_kind=kind,
        **kwargs,
    )
    for day in days:
        SessionFactory(course=course, date=day)
    return course


def certified(user, course, *, now: dt.datetime | None = None):
    """Full attendance, questionnaire done, certificate issued (at `now`)."""
    enrollment = EnrollmentFactory(user=user, course=course)
    attend(enrollment, sum(s.minutes for s in course.sessions.all()))
    complete_questionnaire(enrollment)
    certificate, _created = issue_certificate(enrollment=enrollment, now=now)
    return certificate


@pytest.fixture
def owner():
    return ParticipantFactory(first_name="Anna", last_name="Bianchi")


@pytest.fixture
def record(owner):
    """Two certified courses in two trienni, one not passed, one under way in 2030."""
    in_2026 = course_on(
        dt.date(2026, 3, 10),
        dt.date(2026, 3, 17),
        credits=6,
        kind=CreditKind.FORMATIVE,
        code="L2026/1",
        title="Lavoro di rete nei servizi sociali",
    )
    in_2029 = course_on(
        dt.date(2029, 5, 8),
        credits=4,
        kind=CreditKind.DEONTOLOGICAL,
        code="L2029/1",
        title="Etica e deontologia professionale",
    )
    failed = course_on(dt.date(2026, 4, 7), dt.date(2026, 4, 14), credits=3, code="L2026/2")
    ongoing = course_on(dt.date(2030, 2, 26), dt.date(2030, 3, 10), credits=5, code="L2030/1")
    first = certified(owner, in_2026)
    second = certified(owner, in_2029, now=IN_2030)
    not_passed = EnrollmentFactory(user=owner, course=failed)
    attend(not_passed, 120)  # of 480 minutes
    complete_questionnaire(not_passed)
    running = EnrollmentFactory(user=owner, course=ongoing)
    attend(running, 240)
    # Someone else's course, which must appear nowhere in the owner's record.
    certified(ParticipantFactory(), course_on(dt.date(2026, 5, 5), credits=2, code="X2026/9"))
    return {"first": first, "second": second}


def test_trienni_are_fixed_three_year_periods_from_2026():
    assert [triennium_start(y) for y in (2026, 2027, 2028, 2029, 2031, 2032)] == [
        2026,
        2026,
        2026,
        2029,
        2029,
        2032,
    ]


def test_two_courses_in_two_trienni_have_their_own_totals(owner, record):
    libretto = get_libretto(user=owner, now=IN_2030)

    assert [r.triennium.label for r in libretto.trienni] == ["2029–2031", "2026–2028"]
    current, past = libretto.trienni
    assert current.is_current and not past.is_current
    assert [e.course.code for e in current.entries] == ["L2030/1", "L2029/1"]
    assert [e.course.code for e in past.entries] == ["L2026/2", "L2026/1"]
    # Only certificates count: the failed course's 3 and the running course's 5 do not.
    assert current.credits == 4
    assert past.credits == 6
    assert [(k.kind, k.credits) for k in current.by_kind] == [("deontologici", 4)]
    assert [(k.kind, k.credits) for k in past.by_kind] == [("formativi", 6)]
    outcomes = {e.course.code: e.outcome for e in libretto.entries}
    assert outcomes == {
        "L2030/1": Outcome.IN_PROGRESS,
        "L2029/1": Outcome.ISSUED,
        "L2026/2": Outcome.NOT_MET,
        "L2026/1": Outcome.ISSUED,
    }
    failed = past.entries[0]
    assert (failed.attended_minutes, failed.total_minutes) == (120, 480)
    assert failed.declared_credits == 3 and failed.credits == 0


def test_the_page_shows_each_triennium_and_highlights_the_current_one(client, owner, record):
    with time_machine.travel(IN_2030, tick=False):
        # Signed in then: a session opened today would have expired by 2030.
        client.force_login(owner)
        response = client.get(reverse("certificates:libretto"))

    assert response.status_code == 200
    page = response.content.decode()
    assert page.index("Triennio 2029–2031") < page.index("Triennio 2026–2028")
    assert page.count("Triennio in corso") == 1
    assert "Crediti FCO.AS riconosciuti: <strong>4</strong>" in page
    assert "Crediti FCO.AS riconosciuti: <strong>6</strong>" in page
    assert "Crediti deontologici: <strong>4</strong>" in page
    assert "Requisiti non raggiunti" in page and "In corso" in page
    for certificate in record.values():
        assert reverse("certificates:download", kwargs={"token": certificate.token}) in page
        assert reverse("certificates:verify_code", kwargs={"code": certificate.code}) in page
    assert "X2026/9" not in page


def test_the_current_triennium_is_shown_even_when_empty(client):
    user = ParticipantFactory()
    with time_machine.travel(IN_2030, tick=False):
        client.force_login(user)
        page = client.get(reverse("certificates:libretto")).content.decode()
    assert "Triennio 2029–2031" in page and "Nessun corso in questo triennio." in page


def test_nobody_reaches_another_persons_record(client, owner, record):
    other = ParticipantFactory()
    client.force_login(other)

    page = client.get(reverse("certificates:libretto")).content.decode()
    own_json = json.loads(
        client.get(reverse("certificates:libretto_download", kwargs={"fmt": "json"})).content
    )
    by_id = client.get(reverse("certificates:libretto_participant", kwargs={"user_id": owner.pk}))
    file_by_id = client.get(
        reverse(
            "certificates:libretto_participant_download",
            kwargs={"user_id": owner.pk, "fmt": "csv"},
        )
    )

    assert "L2026/1" not in page and "Bianchi" not in page
    assert own_json["courses"] == [] and own_json["participant"]["email"] == other.email
    assert by_id.status_code == 403
    assert file_by_id.status_code == 403


def test_an_unknown_format_is_not_found(client, owner):
    client.force_login(owner)
    url = reverse("certificates:libretto_download", kwargs={"fmt": "exe"})
    assert client.get(url).status_code == 404


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))


def _as_csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}".replace(".", ",")
    return str(value)


def test_csv_and_json_carry_the_same_rows(client, owner, record):
    with time_machine.travel(IN_2030, tick=False):
        client.force_login(owner)
        csv_response = client.get(reverse("certificates:libretto_download", kwargs={"fmt": "csv"}))
        json_response = client.get(
            reverse("certificates:libretto_download", kwargs={"fmt": "json"})
        )

    assert csv_response["Content-Type"].startswith("text/csv")
    assert json_response["Content-Type"].startswith("application/json")
    assert csv_response["Cache-Control"] == "private, no-store"
    header, *rows = _csv_rows(csv_response.content)
    data = json.loads(json_response.content)
    assert len(header) == len(data["courses"][0])
    assert rows == [[_as_csv_cell(v) for v in row.values()] for row in data["courses"]]
    assert [row["course_code"] for row in data["courses"]] == [
        "L2030/1",
        "L2029/1",
        "L2026/2",
        "L2026/1",
    ]
    second = data["courses"][1]
    assert second["certificate"] == record["second"].serial
    assert second["verify_url"].endswith(f"/verify/{record['second'].code}/")
    assert (second["attended_hours"], second["planned_hours"]) == (4.0, 4.0)
    assert (second["credits"], second["credit_kind"]) == (4, "Crediti deontologici")
    assert [(t["triennium"], t["credits"], t["current"]) for t in data["trienni"]] == [
        ("2029–2031", 4, True),
        ("2026–2028", 6, False),
    ]
    assert data["participant"]["codice_fiscale"] == owner.profile.codice_fiscale


@pytest.mark.slow
@requires_openssl
def test_the_pdf_summary_is_a_cades_p7m_that_openssl_verifies(client, owner, record, tmp_path):
    client.force_login(owner)
    response = client.get(reverse("certificates:libretto_download", kwargs={"fmt": "pdf.p7m"}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkcs7-mime"
    assert ".pdf.p7m" in response["Content-Disposition"]
    ok, pdf, stderr = openssl_verify(response.content, tmp_path)
    assert ok, stderr
    text = pdf_text(pdf, tmp_path)
    assert "Libretto formativo" in text
    assert "Anna Bianchi" in text and owner.profile.codice_fiscale in text
    assert "L2026/1 – Lavoro di rete nei" in text
    assert "Triennio 2026–2028 (in corso)" in text
    assert "Totale del triennio: 6 crediti FCO.AS" in text
    assert record["first"].serial in text
    with pikepdf.open(io.BytesIO(pdf)) as document:
        with document.open_metadata() as meta:
            assert meta.get("pdfaid:part") == "2"
        assert "/OutputIntents" in document.Root


def test_the_secretariat_finds_a_participant_by_codice_fiscale(client, owner, record):
    ParticipantFactory(first_name="Anna", last_name="Verdi")
    client.force_login(SecretariatFactory())
    codice_fiscale = owner.profile.codice_fiscale

    found = client.get(reverse("certificates:libretto_search"), {"q": codice_fiscale.lower()})
    by_name = client.get(reverse("certificates:libretto_search"), {"q": "Bianchi Anna"})
    record_page = client.get(
        reverse("certificates:libretto_participant", kwargs={"user_id": owner.pk})
    )

    link = reverse("certificates:libretto_participant", kwargs={"user_id": owner.pk})
    assert found.status_code == 200
    assert [u.pk for u in found.context["results"]] == [owner.pk]
    assert link in found.content.decode()
    assert [u.pk for u in by_name.context["results"]] == [owner.pk]
    page = record_page.content.decode()
    assert "L2026/1" in page and "X2026/9" not in page
    # The secretariat verifies; only the owner downloads the signed certificate itself.
    assert reverse("certificates:download", kwargs={"token": record["first"].token}) not in page


def test_the_triennium_export_lists_the_credits_of_every_participant(client, owner, record):
    # Another social worker certified in 2027; a psychologist earns no FCO.AS credits.
    colleague = ParticipantFactory(last_name="Arancio")
    in_2027 = course_on(dt.date(2026, 11, 3), credits=2, kind=CreditKind.FORMATIVE, code="L2026/3")
    certified(colleague, in_2027)
    psychologist = ParticipantFactory()
    psychologist.profile.profession = Profession.PSYCHOLOGIST
    psychologist.profile.save(update_fields=["profession"])
    certified(psychologist, in_2027)
    client.force_login(SecretariatFactory())

    response = client.get(reverse("certificates:triennium_credits_csv", kwargs={"start": 2026}))
    xlsx = client.get(reverse("certificates:triennium_credits_xlsx", kwargs={"start": 2029}))
    not_a_triennium = client.get(
        reverse("certificates:triennium_credits_csv", kwargs={"start": 2027})
    )

    header, *rows = _csv_rows(response.content)
    assert header[:3] == ["Codice fiscale", "Cognome", "Nome"]
    # By surname; the fixture's other participant («Cognome…») comes last, with no credit kind.
    assert [(r[1], r[3], r[7], r[8]) for r in rows] == [
        ("Arancio", "L2026/3", "2", "Crediti formativi"),
        ("Bianchi", "L2026/1", "6", "Crediti formativi"),
        (rows[2][1], "X2026/9", "2", ""),
    ]
    assert rows[1][0] == owner.profile.codice_fiscale
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert [(v[1], v[3], v[7], v[8]) for v in values] == [
        ("Bianchi", "L2029/1", 4, "Crediti deontologici")
    ]
    assert not_a_triennium.status_code == 404


def test_the_secretariat_home_links_to_the_libretti(client):
    client.force_login(SecretariatFactory())
    page = client.get(reverse("web:secretariat")).content.decode()
    assert reverse("certificates:libretto_search") in page


def test_the_record_is_read_in_five_queries_whatever_the_number_of_courses(
    owner, record, django_assert_num_queries
):
    certified(owner, course_on(dt.date(2026, 6, 2), dt.date(2026, 6, 9), credits=1))
    EnrollmentFactory(user=owner, course=course_on(dt.date(2026, 7, 7)))

    # Enrolments, their sessions, attendance, certificates, questionnaire completions.
    with django_assert_num_queries(5):
        libretto = get_libretto(user=owner, now=IN_2030)
    assert len(libretto.entries) == 6


@pytest.mark.slow
def test_the_pdf_summary_carries_the_tsa_time_stamp_like_the_certificates(
    client, owner, record, use_tsa
):
    client.force_login(owner)
    response = client.get(reverse("certificates:libretto_download", kwargs={"fmt": "pdf.p7m"}))

    result = verify_p7m(response.content, trusted_tsa_pem=use_tsa.ca_pem_path.read_bytes())
    assert result.valid
    assert result.timestamp_time is not None
