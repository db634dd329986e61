"""Issuing: the snapshot, the PDF inside, the CAdES envelope, idempotency, versions, e-mail."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from django.db import IntegrityError, connection, transaction

from accounts.models import Profession, Profile, User
from certificates.models import Certificate
from certificates.seal import get_ca_pem, get_signer
from certificates.selectors import get_valid_certificate
from certificates.services import (
    CertificateError,
    issue_certificate,
    issue_certificate_if_eligible,
    reissue_certificate,
    revoke_certificate,
)
from certificates.signing import (
    ATTR_CONTENT_TYPE,
    ATTR_MESSAGE_DIGEST,
    ATTR_MIME_TYPE,
    ATTR_SIGNING_CERTIFICATE_V2,
    ATTR_SIGNING_TIME,
    parse_signed_attributes,
    verify_p7m,
)
from questionnaire.services import get_or_create_questionnaire
from tests.certificates.conftest import (
    openssl_verify,
    pdf_fonts,
    pdf_text,
    pdf_xmp,
    requires_openssl,
)


def _p7m(certificate: Certificate) -> bytes:
    with certificate.file.open("rb") as fh:
        return fh.read()


def _pdf(certificate: Certificate) -> bytes:
    result = verify_p7m(_p7m(certificate), trusted_ca_pem=get_ca_pem())
    assert result.valid, result.errors
    assert result.content is not None
    return result.content


def test_issue_stores_a_snapshot_and_the_signed_file(eligible):
    user = eligible.user
    profile = user.profile

    certificate, created = issue_certificate(enrollment=eligible)

    assert created
    assert certificate.status == Certificate.Status.VALID
    assert certificate.version == 1
    assert certificate.serial == f"C5092Z-1-{certificate.issued_at.year}-{eligible.pk:06d}"
    assert certificate.filename == f"{certificate.serial}.pdf.p7m"
    assert certificate.holder_name == f"{user.first_name} {user.last_name}"
    assert certificate.codice_fiscale == profile.codice_fiscale
    assert (certificate.attended_minutes, certificate.total_minutes) == (576, 720)
    assert certificate.fcoas_awarded and certificate.fcoas_credits == 9
    assert len(certificate.code) == 16
    assert certificate.sha256 == hashlib.sha256(_p7m(certificate)).hexdigest()
    assert certificate.file.name.endswith(".pdf.p7m")


@requires_openssl
def test_openssl_verifies_the_envelope_against_the_published_ca(eligible, tmp_path):
    certificate, _ = issue_certificate(enrollment=eligible)

    ok, content, stderr = openssl_verify(_p7m(certificate), tmp_path)

    assert ok, stderr
    assert content == _pdf(certificate)
    assert content.startswith(b"%PDF-")


def test_every_signed_attribute(eligible):
    before = datetime.now(UTC) - timedelta(seconds=2)
    certificate, _ = issue_certificate(enrollment=eligible)
    p7m = _p7m(certificate)
    pdf = _pdf(certificate)

    attributes = parse_signed_attributes(p7m)

    assert set(attributes) == {
        ATTR_CONTENT_TYPE,
        ATTR_MESSAGE_DIGEST,
        ATTR_SIGNING_TIME,
        ATTR_SIGNING_CERTIFICATE_V2,
        ATTR_MIME_TYPE,
    }
    assert all(len(values) == 1 for values in attributes.values())
    assert attributes[ATTR_CONTENT_TYPE] == ["data"]
    assert attributes[ATTR_MESSAGE_DIGEST] == [hashlib.sha256(pdf).digest()]
    assert attributes[ATTR_MIME_TYPE] == ["application/pdf"]
    assert before <= attributes[ATTR_SIGNING_TIME][0] <= datetime.now(UTC) + timedelta(seconds=2)
    ess = attributes[ATTR_SIGNING_CERTIFICATE_V2][0]["certs"]
    assert len(ess) == 1
    seal_der = get_signer().certificate.public_bytes(serialization.Encoding.DER)
    assert ess[0]["cert_hash"] == hashlib.sha256(seal_der).digest()
    assert ess[0]["hash_algorithm"]["algorithm"] == "sha256"


def test_the_pdf_reads_as_a_certificate(eligible, tmp_path):
    certificate, _ = issue_certificate(enrollment=eligible)
    pdf = _pdf(certificate)

    text = " ".join(pdf_text(pdf, tmp_path).split())

    user = eligible.user
    for expected in [
        "Città Metropolitana di Milano",
        "Attestato di partecipazione",
        "Si attesta che",
        f"{user.first_name} {user.last_name}",
        user.profile.codice_fiscale,
        "La gestione strategica dei servizi di welfare",
        "C5092Z/1",
        "Viale Piceno 60, Milano",
        "9 ore e 36 minuti su 12 ore",
        "Riconosciuti 9 crediti formativi",
        "(FCO.AS)",
        "Susanna Galli",
        "Giovanni Fosti",
        "Elisa Neri",
        "documento firmato digitalmente",
        certificate.serial,
        f"https://corsi.example.org/verify/{certificate.code}/",
    ]:
        assert expected in text, expected
    assert "ECM" not in text
    xmp = pdf_xmp(pdf, tmp_path)
    assert 'pdfaid:part="2"' in xmp and 'pdfaid:conformance="U"' in xmp  # PDF/A-2u
    fonts = pdf_fonts(pdf, tmp_path)
    assert fonts and all("Titillium-Web" in row for row in fonts)  # only the bundled fonts
    assert all(" yes yes yes " in row for row in fonts)  # embedded, subset, with ToUnicode


def test_no_credits_line_for_other_professions(make_eligible, tmp_path):
    enrollment = make_eligible()
    Profile.objects.filter(user=enrollment.user).update(profession=Profession.PSYCHOLOGIST)

    certificate, _ = issue_certificate(enrollment=enrollment)

    text = pdf_text(_pdf(certificate), tmp_path)
    assert not certificate.fcoas_awarded and certificate.fcoas_credits is None
    assert "FCO.AS" not in text
    assert "ECM" not in text


def test_no_credits_line_when_the_course_grants_none(make_eligible, ended_course, tmp_path):
    ended_course.grants_fcoas_credits = False
    ended_course.save(update_fields=["grants_fcoas_credits"])

    certificate, _ = issue_certificate(enrollment=make_eligible())

    assert "FCO.AS" not in pdf_text(_pdf(certificate), tmp_path)


def test_issue_refuses_when_not_eligible(make_eligible):
    enrollment = make_eligible(575)

    with pytest.raises(CertificateError, match="manca 1 minuto"):
        issue_certificate(enrollment=enrollment)
    assert not Certificate.objects.exists()
    assert issue_certificate_if_eligible(enrollment_id=enrollment.pk) is None


def test_issue_twice_returns_the_same_certificate(eligible):
    first, created_first = issue_certificate(enrollment=eligible)
    second, created_second = issue_certificate(enrollment=eligible)

    assert (created_first, created_second) == (True, False)
    assert first.pk == second.pk
    assert Certificate.objects.count() == 1


def test_the_database_holds_one_valid_certificate_per_enrolment(eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    duplicate = Certificate.objects.get(pk=certificate.pk)
    duplicate.pk = None
    duplicate.version = 2
    duplicate.serial, duplicate.code, duplicate.token = "X-1", "0" * 16, None
    duplicate.token = __import__("uuid").uuid4()

    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save(force_insert=True)


def test_reissue_after_a_name_correction(eligible):
    old, _ = issue_certificate(enrollment=eligible)
    User.objects.filter(pk=eligible.user_id).update(first_name="Maria Grazia")

    new = reissue_certificate(certificate=old, reason="Nome corretto", actor=None)

    old.refresh_from_db()
    assert old.status == Certificate.Status.REVOKED
    assert old.revoked_at is not None and old.revocation_reason == "Nome corretto"
    assert new.status == Certificate.Status.VALID
    assert new.version == 2 and new.replaces == old
    assert new.serial == old.serial + "-V2"
    assert new.holder_first_name == "Maria Grazia"
    assert new.code != old.code and new.token != old.token
    assert get_valid_certificate(eligible) == new
    assert verify_p7m(_p7m(new), trusted_ca_pem=get_ca_pem()).valid


def test_reissue_of_a_replaced_version_is_refused(eligible):
    old, _ = issue_certificate(enrollment=eligible)
    reissue_certificate(certificate=old, reason="Nome corretto", actor=None)

    with pytest.raises(CertificateError):
        reissue_certificate(certificate=old, reason="Ancora", actor=None)


def test_revoke(eligible):
    certificate, _ = issue_certificate(enrollment=eligible)

    revoke_certificate(certificate=certificate, reason="Rilasciato per errore", actor=None)

    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert get_valid_certificate(eligible) is None


def test_snapshot_does_not_follow_later_profile_changes(eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    User.objects.filter(pk=eligible.user_id).update(last_name="Altro")
    Profile.objects.filter(user_id=eligible.user_id).update(codice_fiscale="")

    certificate.refresh_from_db()
    assert certificate.holder_last_name == eligible.user.last_name
    assert certificate.codice_fiscale == eligible.user.profile.codice_fiscale


def test_ready_email_is_sent_once_in_the_users_language(
    eligible, mailoutbox, django_capture_on_commit_callbacks
):
    from certificates.emails import send_certificate_ready

    with django_capture_on_commit_callbacks(execute=True):
        certificate, _ = issue_certificate(enrollment=eligible)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [eligible.user.email]
    assert "Attestato disponibile" in message.subject
    assert certificate.serial in message.body
    assert "https://corsi.example.org/certificates/" in message.body
    assert message.alternatives and message.alternatives[0][1] == "text/html"
    assert not message.attachments
    certificate.refresh_from_db()
    assert certificate.notified_at is not None

    assert send_certificate_ready(certificate_id=certificate.pk) is False
    assert len(mailoutbox) == 1


def test_questionnaire_submitted_after_the_course_ended_issues_the_certificate(
    make_eligible, mailoutbox, django_capture_on_commit_callbacks
):
    from questionnaire.selectors import list_questions
    from questionnaire.services import submit_questionnaire

    enrollment = make_eligible(600, questionnaire=False)
    questions = list_questions(get_or_create_questionnaire(course=enrollment.course))
    answers = {q.pk: 4 for q in questions if q.kind == "scale"}

    with django_capture_on_commit_callbacks(execute=True):
        submit_questionnaire(enrollment=enrollment, answers=answers)

    certificate = get_valid_certificate(enrollment)
    assert certificate is not None
    assert certificate.attended_minutes == 600
    assert [m.to for m in mailoutbox] == [[enrollment.user.email]]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_issuers_make_one_certificate(eligible):
    barrier = threading.Barrier(2)
    results: list[object] = []

    def issue() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(issue_certificate(enrollment=eligible))
        except Exception as exc:  # reported below
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(results) == 2
    assert all(isinstance(r, tuple) for r in results), results
    assert sorted(created for _c, created in results) == [False, True]
    assert len({c.pk for c, _created in results}) == 1
    assert Certificate.objects.filter(enrollment=eligible).count() == 1
