"""Certificates stay provable after their seal expires or is replaced; /verify/ca.pem keeps
every CA behind a valid certificate."""

from __future__ import annotations

import datetime as dt

import time_machine
from cryptography import x509
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certificates.models import Certificate
from certificates.pki import ensure_dev_pki
from certificates.seal import get_signer, set_signer
from certificates.services import issue_certificate, revoke_certificate


def _p7m(certificate: Certificate) -> bytes:
    with certificate.file.open("rb") as fh:
        return fh.read()


def _upload(client, certificate: Certificate) -> str:
    upload = SimpleUploadedFile("a.pdf.p7m", _p7m(certificate))
    return client.post(reverse("certificates:verify"), {"file": upload}).content.decode()


def _published(client) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(client.get(reverse("certificates:ca_pem")).content)


def test_issue_records_the_seal_that_signed(eligible):
    certificate, _ = issue_certificate(enrollment=eligible)

    seal = certificate.seal
    signer = get_signer()
    assert seal.subject == signer.certificate.subject.rfc4514_string()
    assert seal.serial_number == format(signer.certificate.serial_number, "X")
    assert seal.not_after == signer.certificate.not_valid_after_utc
    assert x509.load_pem_x509_certificates(seal.ca_pem.encode()) == signer.chain


def test_a_file_still_verifies_after_its_seal_expired(client, eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    seal = get_signer().certificate
    subject = seal.subject.rfc4514_string()
    expired = seal.not_valid_after_utc + dt.timedelta(days=1)

    with time_machine.travel(expired, tick=False):
        page = _upload(client, certificate)
        by_code = client.get(
            reverse("certificates:verify_code", kwargs={"code": certificate.code})
        ).content.decode()

    assert "Firma valida: il file è integro" in page, page
    assert "Sigillo" in page and subject in page
    assert "Attestato valido" in by_code
    assert subject in by_code
    assert "valido dal" in by_code


def test_a_file_still_verifies_after_the_seal_was_replaced(
    client, eligible, tmp_path, fresh_signer
):
    old, _ = issue_certificate(enrollment=eligible)
    (old_ca,) = get_signer().chain
    # The organiser gets a new seal from another CA.
    new_pki = ensure_dev_pki(tmp_path / "new-qtsp", organisation="Nuovo ente")
    set_signer(new_pki.signer(), new_pki.ca_pem_path.read_bytes())
    new_ca = x509.load_pem_x509_certificate(new_pki.ca_pem_path.read_bytes())

    page = _upload(client, old)

    assert "Firma valida: il file è integro" in page, page
    published = _published(client)
    assert old_ca in published and new_ca in published
    assert len(published) == len(set(published))

    revoke_certificate(certificate=old, reason="Rilasciato per errore", actor=None)
    assert _published(client) == [new_ca]  # no valid certificate needs the old CA any more


def test_a_file_we_did_not_issue_is_checked_now_against_the_current_ca(client, eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    foreign = get_signer().sign(b"%PDF-1.7 not ours")

    upload = SimpleUploadedFile("x.pdf.p7m", foreign)
    page = client.post(reverse("certificates:verify"), {"file": upload}).content.decode()

    assert "non corrisponde ad alcun attestato" in page
    assert certificate.serial not in page


def test_certificates_issued_before_seals_were_recorded_get_theirs(make_eligible, tmp_path):
    import io

    from django.core.management import call_command

    legacy, _ = issue_certificate(enrollment=make_eligible())
    tampered, _ = issue_certificate(enrollment=make_eligible())
    seal = legacy.seal
    Certificate.objects.update(seal=None)  # as after the upgrade
    Certificate.objects.filter(pk=tampered.pk).update(sha256="0" * 64)

    out = io.StringIO()
    call_command("record_certificate_seals", stdout=out)

    legacy.refresh_from_db()
    tampered.refresh_from_db()
    assert legacy.seal == seal
    assert tampered.seal is None  # a file that is not what we recorded proves nothing
    assert "1" in out.getvalue()
