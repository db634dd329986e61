"""Where the seal comes from: the PKCS#12 named in the settings, or the development PKI."""

from __future__ import annotations

import smtplib

import pytest
from cryptography import x509

from certificates.pki import ensure_dev_pki
from certificates.seal import get_ca_pem, get_signer
from certificates.services import issue_certificate
from certificates.signing import Signer, verify_p7m


def test_production_seal_from_the_pkcs12_in_the_settings(settings, tmp_path, fresh_signer):
    pki = ensure_dev_pki(tmp_path / "qtsp", organisation="Ente di prova", password=b"s3cret")
    settings.SIGNING_P12_PATH = str(pki.p12_path)
    settings.SIGNING_P12_PASSWORD = "s3cret"

    signer = get_signer()

    assert isinstance(signer, Signer)
    assert "Ente di prova" in signer.certificate.subject.rfc4514_string()
    # Published CA = the chain shipped in the PKCS#12.
    assert x509.load_pem_x509_certificates(get_ca_pem()) == [
        x509.load_pem_x509_certificate(pki.ca_pem_path.read_bytes())
    ]
    assert verify_p7m(signer.sign(b"%PDF-1.7 x"), trusted_ca_pem=get_ca_pem()).valid
    assert get_signer() is signer  # parsed once, then cached


def test_development_pki_under_pki_dir(settings, tmp_path, fresh_signer):
    settings.SIGNING_P12_PATH = ""
    settings.PKI_DIR = tmp_path / "pki"

    get_signer()

    assert (tmp_path / "pki" / "ca.pem").read_bytes() == get_ca_pem()


def test_permanent_smtp_refusal_is_recorded_not_retried(eligible, monkeypatch):
    from certificates.emails import send_certificate_ready

    def refuse(self, fail_silently=False):
        raise smtplib.SMTPRecipientsRefused({"x@example.org": (550, b"no such user")})

    certificate, _ = issue_certificate(enrollment=eligible)
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert send_certificate_ready(certificate_id=certificate.pk) is False

    certificate.refresh_from_db()
    assert certificate.notified_at is None
    assert certificate.notification_status == "failed"
    assert certificate.notification_error == "SMTP 550"
    assert certificate.notification_attempts == 1
    # Failed for good: not tried again.
    assert send_certificate_ready(certificate_id=certificate.pk) is False
    certificate.refresh_from_db()
    assert certificate.notification_attempts == 1


def test_transient_smtp_error_propagates_for_a_retry(eligible, monkeypatch):
    from certificates.emails import TransientEmailError, send_certificate_ready

    def busy(self, fail_silently=False):
        raise smtplib.SMTPDataError(451, b"try later")

    certificate, _ = issue_certificate(enrollment=eligible)
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", busy)

    with pytest.raises(TransientEmailError):
        send_certificate_ready(certificate_id=certificate.pk)
    certificate.refresh_from_db()
    assert certificate.notified_at is None
