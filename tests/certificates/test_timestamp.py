"""CAdES B-T: a time-stamp from a real local TSA process in every certificate, and the upgrade
of certificates issued while the TSA was down."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import socket
import subprocess
import time
from pathlib import Path

import pytest
from asn1crypto import cms
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certificates.models import Certificate, PreviousCertificateFile
from certificates.seal import get_ca_pem
from certificates.services import issue_certificate, revoke_certificate
from certificates.signing import (
    SIGNATURE_TIME_STAMP_OID,
    FileSigner,
    add_signature_timestamp,
    signature_value,
    verify_p7m,
)
from certificates.tasks import upgrade_certificates_to_bt_task
from certificates.timestamping import TimestampError, request_timestamp
from core.formatting import short_datetime
from portal.celery import app
from tests.certificates.conftest import free_port, openssl_verify, requires_openssl, run_tsa

pytestmark = pytest.mark.slow


def _p7m(certificate: Certificate) -> bytes:
    with certificate.file.open("rb") as fh:
        return fh.read()


def _tokens(p7m: bytes) -> list[bytes]:
    """The DER signature-time-stamp tokens in the envelope's unsigned attributes."""
    signer_info = cms.ContentInfo.load(p7m)["content"]["signer_infos"][0]
    unsigned = signer_info["unsigned_attrs"]
    if unsigned.native is None:
        return []
    return [
        value.dump()
        for attr in unsigned
        if attr["type"].dotted == SIGNATURE_TIME_STAMP_OID
        for value in attr["values"]
    ]


def _openssl_ts_verify(signature: bytes, token: bytes, ca_pem: Path, workdir: Path) -> str:
    (workdir / "signature.bin").write_bytes(signature)
    (workdir / "token.der").write_bytes(token)
    proc = subprocess.run(
        [
            "openssl", "ts", "-verify", "-data", str(workdir / "signature.bin"),
            "-in", str(workdir / "token.der"), "-token_in", "-CAfile", str(ca_pem),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    return proc.stdout + proc.stderr


def _upload(client, name: str, data: bytes) -> str:
    upload = SimpleUploadedFile(name, data, "application/pkcs7-mime")
    response = client.post(reverse("certificates:verify"), {"file": upload})
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def tsa_down(settings) -> None:
    """TSA_URL points at a port where nothing listens."""
    settings.TSA_URL = f"http://127.0.0.1:{free_port()}/tsa"
    settings.TSA_TIMEOUT = 2


# --- Issued with the TSA up ----------------------------------------------------------------------


@requires_openssl
def test_certificate_carries_a_timestamp_that_openssl_ts_accepts(use_tsa, eligible, tmp_path):
    certificate, _ = issue_certificate(enrollment=eligible)
    p7m = _p7m(certificate)

    tokens = _tokens(p7m)
    assert len(tokens) == 1
    output = _openssl_ts_verify(signature_value(p7m), tokens[0], use_tsa.ca_pem_path, tmp_path)
    assert "Verification: OK" in output
    # The whole envelope still passes the CAdES reference check.
    ok, content, stderr = openssl_verify(p7m, tmp_path)
    assert ok, stderr
    assert content.startswith(b"%PDF-")
    result = verify_p7m(
        p7m, trusted_ca_pem=get_ca_pem(), trusted_tsa_pem=use_tsa.ca_pem_path.read_bytes()
    )
    assert result.valid, result.errors
    assert result.timestamp_time is not None
    assert certificate.timestamped_at == result.timestamp_time
    assert certificate.sha256 == hashlib.sha256(p7m).hexdigest()


@requires_openssl
def test_the_reported_time_is_the_one_openssl_reads_in_the_token(use_tsa, eligible, tmp_path):
    certificate, _ = issue_certificate(enrollment=eligible)
    (tmp_path / "token.der").write_bytes(_tokens(_p7m(certificate))[0])

    text = subprocess.run(
        ["openssl", "ts", "-reply", "-in", str(tmp_path / "token.der"), "-token_in", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    line = next(line for line in text.splitlines() if line.startswith("Time stamp:"))
    openssl_time = dt.datetime.strptime(line.split(":", 1)[1].strip(), "%b %d %H:%M:%S %Y %Z")
    assert certificate.timestamped_at == openssl_time.replace(tzinfo=dt.UTC)


def test_a_timestamp_keeps_the_signature_provable_after_the_seal_expires(use_tsa, tmp_path):
    # given: a seal certificate that expires two seconds from now
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sigillo di prova")])
    now = dt.datetime.now(dt.UTC)
    seal = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(seconds=2))
        .sign(key, hashes.SHA256())
    )
    bb = FileSigner(key, seal).sign(b"%PDF-1.7 attestato")
    token = request_timestamp(
        signature_value(bb), url=use_tsa.url, username="portale", password="s3greto"
    )
    bt = add_signature_timestamp(bb, token)
    # when: the seal has expired
    time.sleep(3)

    # then: B-B can no longer be checked, B-T is checked at the time-stamp's time
    assert not verify_p7m(bb).valid
    result = verify_p7m(bt, trusted_tsa_pem=use_tsa.ca_pem_path.read_bytes())
    assert result.valid, result.errors
    assert result.timestamp_time is not None and result.timestamp_time <= seal.not_valid_after_utc


@requires_openssl
def test_openssl_ts_rejects_the_token_for_another_signature(use_tsa, eligible, tmp_path):
    certificate, _ = issue_certificate(enrollment=eligible)
    p7m = _p7m(certificate)

    output = _openssl_ts_verify(
        b"another signature", _tokens(p7m)[0], use_tsa.ca_pem_path, tmp_path
    )

    assert "Verification: OK" not in output


def test_verify_page_by_code_shows_the_timestamp_time(client, use_tsa, eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    assert certificate.timestamped_at is not None

    response = client.get(reverse("certificates:verify_code", kwargs={"code": certificate.code}))

    content = response.content.decode()
    assert "Marca temporale" in content
    assert short_datetime(certificate.timestamped_at, seconds=True) in content


def test_verify_page_by_upload_checks_and_shows_the_timestamp(client, use_tsa, eligible):
    certificate, _ = issue_certificate(enrollment=eligible)

    content = _upload(client, certificate.filename, _p7m(certificate))

    assert "Firma valida: il file è integro" in content
    assert "Marca temporale verificata" in content
    assert short_datetime(certificate.timestamped_at, seconds=True) in content
    assert "Test TSA" in content


def test_a_token_grafted_from_another_signature_fails_verification(use_tsa, make_eligible):
    first, _ = issue_certificate(enrollment=make_eligible())
    second, _ = issue_certificate(enrollment=make_eligible())

    forged = add_signature_timestamp(_p7m(second), _tokens(_p7m(first))[0])
    result = verify_p7m(forged, trusted_ca_pem=get_ca_pem())

    assert not result.valid
    assert result.timestamp_time is None
    assert any("message imprint" in error for error in result.errors)


def test_a_token_from_a_tsa_we_do_not_trust_fails_verification(use_tsa, eligible, tmp_path):
    certificate, _ = issue_certificate(enrollment=eligible)
    with run_tsa(tmp_path) as other:
        other_ca = other.ca_pem_path.read_bytes()

    result = verify_p7m(_p7m(certificate), trusted_ca_pem=get_ca_pem(), trusted_tsa_pem=other_ca)

    assert not result.valid
    assert any("TSA certificate is not issued by the trusted CA" in e for e in result.errors)


def test_a_malformed_token_is_reported_not_raised(use_tsa, eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    not_a_token = cms.ContentInfo({"content_type": "data", "content": b"x"}).dump()

    result = verify_p7m(add_signature_timestamp(_p7m(certificate), not_a_token))

    assert not result.valid
    assert any("signature time-stamp" in error for error in result.errors)


def test_a_token_that_does_not_verify_is_not_stored(settings, use_tsa, eligible, tmp_path):
    # The TSA answers, but under a CA other than the one configured: keep B-B, upgrade later.
    with run_tsa(tmp_path) as other:
        settings.TSA_CA_PEM_PATH = str(other.ca_pem_path)
        certificate, _ = issue_certificate(enrollment=eligible)

    assert _tokens(_p7m(certificate)) == []
    assert certificate.timestamped_at is None


def test_the_tsa_credentials_are_sent(use_tsa):
    assert request_timestamp(b"x", url=use_tsa.url, username="portale", password="s3greto")
    with pytest.raises(TimestampError):
        request_timestamp(b"x", url=use_tsa.url, username="portale", password="wrong")


# --- Issued with the TSA down, upgraded later ----------------------------------------------------


def test_tsa_down_issues_bb_then_the_beat_task_upgrades_to_bt(
    client, settings, tsa_down, local_tsa, eligible, tmp_path
):
    # given: the TSA does not answer when the certificate is issued
    certificate, _ = issue_certificate(enrollment=eligible)
    old = _p7m(certificate)
    assert _tokens(old) == []
    assert certificate.timestamped_at is None
    assert upgrade_certificates_to_bt_task.delay().get() == 0  # still down: nothing changes
    # when: the TSA answers again and the periodic task runs
    settings.TSA_URL = local_tsa.url
    settings.TSA_USERNAME, settings.TSA_PASSWORD = local_tsa.username, local_tsa.password
    settings.TSA_CA_PEM_PATH = str(local_tsa.ca_pem_path)
    assert upgrade_certificates_to_bt_task.delay().get() == 1

    # then: same file name and code, a time-stamp, the new hash recorded, the old one kept
    upgraded = Certificate.objects.get(pk=certificate.pk)
    new = _p7m(upgraded)
    assert upgraded.file.name == certificate.file.name
    assert upgraded.code == certificate.code and upgraded.serial == certificate.serial
    assert len(_tokens(new)) == 1
    assert upgraded.timestamped_at is not None
    assert upgraded.sha256 == hashlib.sha256(new).hexdigest() != certificate.sha256
    assert PreviousCertificateFile.objects.get(certificate=upgraded).sha256 == certificate.sha256
    # The signed part is untouched: the signature value is the same.
    assert signature_value(new) == signature_value(old)
    ok, _content, stderr = openssl_verify(new, tmp_path)
    assert ok, stderr
    # Both files verify as ours; the new one shows its time-stamp.
    old_page = _upload(client, certificate.filename, old)
    assert "Firma valida: il file è integro" in old_page
    assert certificate.serial in old_page
    new_page = _upload(client, certificate.filename, new)
    assert "Firma valida: il file è integro" in new_page
    assert short_datetime(upgraded.timestamped_at, seconds=True) in new_page
    # and: a second run has nothing left to do
    assert upgrade_certificates_to_bt_task.delay().get() == 0
    assert PreviousCertificateFile.objects.count() == 1


def test_a_hanging_tsa_is_asked_once_not_for_every_certificate(settings, make_eligible):
    # A TSA that accepts connections and never answers (a stuck service).
    with socket.socket() as hanging:
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(16)
        settings.TSA_URL = f"http://127.0.0.1:{hanging.getsockname()[1]}/tsa"
        settings.TSA_TIMEOUT = 1

        first, _ = issue_certificate(enrollment=make_eligible())
        second, _ = issue_certificate(enrollment=make_eligible())

        hanging.setblocking(False)
        connections = []
        with contextlib.suppress(BlockingIOError):
            while True:
                connections.append(hanging.accept()[0])
        for connection in connections:
            connection.close()
    assert first.timestamped_at is None and second.timestamped_at is None
    assert len(connections) == 1


def test_a_revoked_certificate_is_not_upgraded(settings, tsa_down, local_tsa, eligible):
    certificate, _ = issue_certificate(enrollment=eligible)
    revoke_certificate(certificate=certificate, reason="Errore", actor=None)
    settings.TSA_URL = local_tsa.url
    settings.TSA_USERNAME, settings.TSA_PASSWORD = local_tsa.username, local_tsa.password

    assert upgrade_certificates_to_bt_task.delay().get() == 0
    assert _tokens(_p7m(certificate)) == []


def test_without_a_tsa_certificates_stay_bb(settings, eligible):
    settings.TSA_URL = ""
    certificate, _ = issue_certificate(enrollment=eligible)

    assert _tokens(_p7m(certificate)) == []
    assert upgrade_certificates_to_bt_task.delay().get() == 0


def test_the_upgrade_runs_on_the_beat_schedule():
    names = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}

    assert "certificates.tasks.upgrade_certificates_to_bt_task" in names
    assert "certificates.tasks.upgrade_certificates_to_bt_task" in app.tasks
