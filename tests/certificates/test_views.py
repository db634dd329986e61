"""Download (owner only), public verification, the CA certificate, the secretariat pages."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from accounts.models import Profession, Profile
from certificates.models import Certificate
from certificates.seal import get_ca_pem
from certificates.services import issue_certificate, reissue_certificate
from questionnaire.services import get_or_create_questionnaire
from tests.certificates.conftest import pdf_text, requires_openssl
from tests.factories import ParticipantFactory


@pytest.fixture
def certificate(eligible) -> Certificate:
    certificate, _ = issue_certificate(enrollment=eligible)
    return certificate


def _p7m(certificate: Certificate) -> bytes:
    with certificate.file.open("rb") as fh:
        return fh.read()


def _login(client, user) -> None:
    client.force_login(user)


# --- Participant ---------------------------------------------------------------------------------


def test_my_certificates_lists_the_download(client, certificate):
    _login(client, certificate.enrollment.user)

    response = client.get(reverse("certificates:mine"))

    assert response.status_code == 200
    content = response.content.decode()
    assert certificate.serial in content
    assert reverse("certificates:download", kwargs={"token": certificate.token}) in content


def test_owner_downloads_the_p7m(client, certificate):
    _login(client, certificate.enrollment.user)

    response = client.get(reverse("certificates:download", kwargs={"token": certificate.token}))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkcs7-mime"
    assert response["Content-Disposition"] == f'attachment; filename="{certificate.serial}.pdf.p7m"'
    assert b"".join(response.streaming_content) == _p7m(certificate)


def test_another_participant_gets_404(client, certificate):
    _login(client, ParticipantFactory())

    response = client.get(reverse("certificates:download", kwargs={"token": certificate.token}))

    assert response.status_code == 404


def test_anonymous_is_sent_to_login(client, certificate):
    url = reverse("certificates:download", kwargs={"token": certificate.token})

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_revoked_version_is_no_longer_downloadable(client, certificate):
    reissue_certificate(certificate=certificate, reason="Nome corretto", actor=None)
    _login(client, certificate.enrollment.user)

    response = client.get(reverse("certificates:download", kwargs={"token": certificate.token}))

    assert response.status_code == 404


def test_my_certificates_needs_login(client):
    response = client.get(reverse("certificates:mine"))

    assert response.status_code == 302


# --- Public verification -------------------------------------------------------------------------


def test_verification_page_confirms_a_valid_certificate(client, certificate):
    response = client.get(reverse("certificates:verify_code", kwargs={"code": certificate.code}))

    assert response.status_code == 200
    content = response.content.decode()
    assert "Attestato valido" in content
    first, last = certificate.holder_first_name, certificate.holder_last_name
    assert f"{first[:2]}*** {last[:2]}***" in content
    assert first not in content and last not in content
    assert certificate.codice_fiscale not in content
    assert certificate.course_title in content
    assert "9 ore e 36 minuti su 12 ore" in content
    assert certificate.serial in content


def test_verification_accepts_a_typed_code(client, certificate):
    typed = "-".join(certificate.code[i : i + 4] for i in (0, 4, 8, 12)).lower()

    response = client.get(reverse("certificates:verify"), {"code": typed})

    assert response.status_code == 302
    assert response["Location"] == reverse(
        "certificates:verify_code", kwargs={"code": certificate.code}
    )


def test_verification_page_says_revoked(client, certificate):
    new = reissue_certificate(certificate=certificate, reason="Nome corretto", actor=None)

    response = client.get(reverse("certificates:verify_code", kwargs={"code": certificate.code}))

    content = response.content.decode()
    assert "Attestato revocato" in content
    assert new.serial in content


def test_unknown_code_is_404(client, db):
    response = client.get(reverse("certificates:verify_code", kwargs={"code": "0" * 16}))

    assert response.status_code == 404
    assert "Nessun attestato" in response.content.decode()


def test_upload_of_the_genuine_file_verifies(client, certificate):
    upload = SimpleUploadedFile(certificate.filename, _p7m(certificate), "application/pkcs7-mime")

    response = client.post(reverse("certificates:verify"), {"file": upload})

    assert response.status_code == 200
    content = response.content.decode()
    assert "Firma valida: il file è integro" in content
    assert certificate.serial in content
    assert certificate.codice_fiscale not in content


def test_upload_of_a_tampered_file_fails(client, certificate):
    data = bytearray(_p7m(certificate))
    position = data.find(b"%%EOF") - 200  # inside the enveloped PDF
    data[position] ^= 0x01
    upload = SimpleUploadedFile("x.pdf.p7m", bytes(data), "application/pkcs7-mime")

    response = client.post(reverse("certificates:verify"), {"file": upload})

    assert response.status_code == 200
    content = response.content.decode()
    assert "Verifica non superata" in content
    assert certificate.serial not in content


def test_upload_of_garbage_fails(client, db):
    upload = SimpleUploadedFile("x.pdf.p7m", b"not a p7m at all", "application/pkcs7-mime")

    response = client.post(reverse("certificates:verify"), {"file": upload})

    assert "Verifica non superata" in response.content.decode()


def test_upload_over_5_mb_is_refused_before_reading(client, db):
    upload = SimpleUploadedFile("big.p7m", b"\x30" * (5 * 1024 * 1024 + 70_000))

    response = client.post(reverse("certificates:verify"), {"file": upload})

    assert response.status_code == 413


def test_upload_needs_the_csrf_token(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    upload = SimpleUploadedFile("x.pdf.p7m", b"x")

    response = client.post(reverse("certificates:verify"), {"file": upload})

    assert response.status_code == 403


def test_ca_pem_is_public(client, db):
    response = client.get(reverse("certificates:ca_pem"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-pem-file"
    assert response.content == get_ca_pem()
    assert response.content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert reverse("certificates:ca_pem") == "/verify/ca.pem"


# --- Secretariat ---------------------------------------------------------------------------------


def test_course_page_is_for_the_secretariat_only(client, ended_course, participant, secretariat):
    url = reverse("certificates:course", kwargs={"slug": ended_course.slug})

    assert client.get(url).status_code == 302  # anonymous: login
    _login(client, participant)
    assert client.get(url).status_code == 403
    client.logout()
    _login(client, secretariat)
    assert client.get(url).status_code == 200


def test_course_page_shows_who_misses_what_and_issues_in_batch(
    client, secretariat, make_eligible, ended_course, django_capture_on_commit_callbacks
):
    ready = make_eligible(720)
    short = make_eligible(535)
    _login(client, secretariat)
    url = reverse("certificates:course", kwargs={"slug": ended_course.slug})

    page = client.get(url).content.decode()
    assert "mancano 41 minuti" in page
    assert short.user.email in page and ready.user.email in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"action": "issue"})

    assert response.status_code == 302
    assert Certificate.objects.filter(enrollment=ready).count() == 1
    assert not Certificate.objects.filter(enrollment=short).exists()


def test_secretariat_reissues_from_the_course_page(client, secretariat, certificate):
    _login(client, secretariat)
    url = reverse("certificates:course", kwargs={"slug": certificate.enrollment.course.slug})

    client.post(url, {"action": "reissue", "certificate": certificate.pk, "reason": "Nome"})

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert Certificate.objects.filter(replaces=certificate).exists()


def test_credits_report_lists_the_social_workers(client, secretariat, make_eligible):
    social_worker = make_eligible()
    Profile.objects.filter(user=social_worker.user).update(
        ordine_regionale="Lombardia", numero_iscrizione="A-1234"
    )
    psychologist = make_eligible()
    Profile.objects.filter(user=psychologist.user).update(profession=Profession.PSYCHOLOGIST)
    for enrollment in (social_worker, psychologist):
        issue_certificate(enrollment=enrollment)
    _login(client, secretariat)
    slug = social_worker.course.slug

    csv = client.get(reverse("certificates:credits_csv", kwargs={"slug": slug}))
    xlsx = client.get(reverse("certificates:credits_xlsx", kwargs={"slug": slug}))

    text = csv.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("Cognome;Nome;Codice fiscale;Ordine regionale")
    assert len(lines) == 2
    profile = Profile.objects.get(user=social_worker.user)
    assert lines[1].split(";")[:8] == [
        social_worker.user.last_name,
        social_worker.user.first_name,
        profile.codice_fiscale,
        "Lombardia",
        "A-1234",
        "9,60",
        "12,00",
        "9",
    ]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2
    assert rows[1][2] == profile.codice_fiscale and rows[1][5] == 9.6 and rows[1][7] == 9


def test_credits_report_needs_the_permission(client, participant, ended_course):
    _login(client, participant)

    response = client.get(reverse("certificates:credits_csv", kwargs={"slug": ended_course.slug}))

    assert response.status_code == 403


# --- End to end ----------------------------------------------------------------------------------


@requires_openssl
def test_done_when(client, make_eligible, tmp_path, django_capture_on_commit_callbacks):
    """80% and the questionnaire → download → openssl verifies against /verify/ca.pem → the
    PDF reads as a certificate → the verification page (the QR's URL) confirms it."""
    from questionnaire.selectors import list_questions
    from questionnaire.services import submit_questionnaire

    enrollment = make_eligible(576, questionnaire=False)
    questions = list_questions(get_or_create_questionnaire(course=enrollment.course))
    with django_capture_on_commit_callbacks(execute=True):
        submit_questionnaire(
            enrollment=enrollment, answers={q.pk: 5 for q in questions if q.kind == "scale"}
        )
    client.force_login(enrollment.user)
    page = client.get(enrollment.course.get_absolute_url())
    assert page.status_code == 200

    listing = client.get(reverse("certificates:mine")).content.decode()
    certificate = Certificate.objects.get(enrollment=enrollment)
    download_url = reverse("certificates:download", kwargs={"token": certificate.token})
    assert download_url in listing
    response = client.get(download_url)
    p7m = b"".join(response.streaming_content)
    ca = client.get("/verify/ca.pem").content
    (tmp_path / "ca.pem").write_bytes(ca)
    (tmp_path / "x.pdf.p7m").write_bytes(p7m)

    proc = subprocess.run(
        [
            "openssl", "cms", "-verify", "-cades", "-inform", "DER", "-binary",
            "-CAfile", str(tmp_path / "ca.pem"), "-in", str(tmp_path / "x.pdf.p7m"),
            "-out", str(tmp_path / "x.pdf"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stderr
    text = " ".join(pdf_text((tmp_path / "x.pdf").read_bytes(), tmp_path).split())
    assert "Attestato di partecipazione" in text
    assert f"{enrollment.user.first_name} {enrollment.user.last_name}" in text
    assert "9 ore e 36 minuti su 12 ore" in text
    verify_url = f"https://corsi.example.org/verify/{certificate.code}/"
    assert verify_url in text
    confirmation = client.get(verify_url.removeprefix("https://corsi.example.org"))
    assert "Attestato valido" in confirmation.content.decode()
    uploaded = client.post(
        reverse("certificates:verify"),
        {"file": SimpleUploadedFile("x.pdf.p7m", p7m, "application/pkcs7-mime")},
    )
    assert "Firma valida: il file è integro" in uploaded.content.decode()
