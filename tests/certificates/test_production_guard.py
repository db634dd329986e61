"""Production never signs with the development CA."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from certificates.models import Certificate
from certificates.pki import ensure_dev_pki
from certificates.services import CertificateError, issue_certificate

ROOT = Path(__file__).resolve().parents[2]


def _ids(messages) -> set[str]:
    return {m.id for m in messages}


def test_check_deploy_fails_without_the_seal(settings):
    settings.DEBUG = False
    settings.SIGNING_P12_PATH = ""

    with pytest.raises(SystemCheckError, match="certificates.E001"):
        call_command("check", "--deploy")


def test_check_deploy_names_a_missing_seal_file(settings, tmp_path):
    settings.DEBUG = False
    settings.SIGNING_P12_PATH = str(tmp_path / "nowhere.p12")

    assert "certificates.E002" in _ids(run_checks(include_deployment_checks=True))


def test_check_deploy_accepts_a_configured_seal(settings, tmp_path):
    pki = ensure_dev_pki(tmp_path / "qtsp", organisation="Ente di prova")
    settings.DEBUG = False
    settings.SIGNING_P12_PATH = str(pki.p12_path)

    ids = _ids(run_checks(include_deployment_checks=True))
    assert not {"certificates.E001", "certificates.E002"} & ids


def test_development_is_not_bothered(settings):
    settings.DEBUG = True
    settings.SIGNING_P12_PATH = ""

    assert "certificates.E001" not in _ids(run_checks(include_deployment_checks=True))


def test_issue_refuses_the_development_ca_in_production(settings, eligible, fresh_signer):
    # What settings.py sets with DEBUG=0 (tested below in a real process).
    settings.DEBUG = False
    settings.CERTIFICATES_DEV_PKI = False
    settings.SIGNING_P12_PATH = ""

    with pytest.raises(CertificateError, match="sigillo elettronico dell'ente non è configurato"):
        issue_certificate(enrollment=eligible)
    assert not Certificate.objects.exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not any(media.rglob("*.p7m"))


@pytest.mark.slow
def test_a_production_process_refuses_to_load_the_development_ca(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DJANGO_SETTINGS_MODULE="portal.settings",
        DEBUG="0",
        SECRET_KEY="x7!k2@pq9#z" * 6,
        ALLOWED_HOSTS="corsi.example.org",
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        VAR_DIR=str(tmp_path / "var"),
        SIGNING_P12_PATH="",
    )
    script = (
        "import django; django.setup()\nfrom certificates.seal import get_signer\nget_signer()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SealNotConfigured" in result.stderr and "SIGNING_P12_PATH" in result.stderr
    assert not (tmp_path / "var" / "pki").exists()  # no development CA was even created
