from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from accounts.models import User
from certificates.pki import ensure_dev_pki
from courses.models import Course, ScheduleItem, Session

ROOT = Path(__file__).resolve().parents[2]

PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x7!k2@pq9#z" * 6,
    "ALLOWED_HOSTS": "corsi.example.org",
    "DATABASE_URL": f"sqlite:///{ROOT}/var/deploy-check.sqlite3",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
}


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE"}}
    clean.pop("DATABASE_URL", None)
    clean.update(
        env, DJANGO_SETTINGS_MODULE="portal.settings", VAR_DIR=str(ROOT / "var" / "deploy-check")
    )
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


@pytest.mark.slow
def test_check_deploy_is_clean_with_production_variables(tmp_path):
    # Production signs with the organiser's seal; a PKCS#12 from a throw-away CA stands in.
    seal = ensure_dev_pki(tmp_path / "seal", password=b"s3cret")
    env = {
        **PRODUCTION_ENV,
        "SIGNING_P12_PATH": str(seal.p12_path),
        "SIGNING_P12_PASSWORD": "s3cret",
    }
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_check_deploy_fails_without_the_organisers_seal():
    result = _manage("check", "--deploy", env=PRODUCTION_ENV)
    assert result.returncode != 0
    assert "certificates.E001" in result.stderr


@pytest.mark.slow
def test_production_refuses_to_start_without_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "SECRET_KEY"}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def _without(*names: str) -> dict[str, str | None]:
    return {**PRODUCTION_ENV, **dict.fromkeys(names)}


def _python(*args: str, env: dict[str, str | None]) -> subprocess.CompletedProcess[str]:
    """Run Python in the project with `env` on top of ours; None removes a variable."""
    clean = {k: v for k, v in os.environ.items() if k not in env}
    clean.update({k: v for k, v in env.items() if v is not None})
    clean.update(
        DJANGO_SETTINGS_MODULE="portal.settings", VAR_DIR=str(ROOT / "var" / "deploy-check")
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def _settings_value(expression: str, env: dict[str, str | None]) -> subprocess.CompletedProcess:
    code = f"import django; django.setup(); from django.conf import settings; print({expression})"
    return _python("-c", code, env=env)


@pytest.mark.slow
def test_debug_is_off_unless_set():
    result = _settings_value("settings.DEBUG", _without("DEBUG"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


@pytest.mark.slow
@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS"])
def test_without_debug_a_start_without_a_required_value_fails_with_a_clear_message(missing):
    for env in (_without("DEBUG", missing), {**_without(missing), missing: "  "}):
        result = _python("manage.py", "check", env=env)
        assert result.returncode != 0
        assert "ImproperlyConfigured" in result.stderr
        assert f"{missing} is not set" in result.stderr and "DEBUG=1" in result.stderr


@pytest.mark.slow
def test_the_development_default_needs_only_debug():
    env = _without("SECRET_KEY", "ALLOWED_HOSTS", "REDIS_URL")
    result = _settings_value("settings.DEBUG, settings.ALLOWED_HOSTS", {**env, "DEBUG": "1"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True ['127.0.0.1', 'localhost', '[::1]']"


@pytest.mark.slow
def test_make_run_turns_debug_on_for_the_embedded_demo():
    env = {k: v for k, v in os.environ.items() if k != "DEBUG"}
    # Skip the install/migrate/seed steps; show the environment `runserver` would get.
    probe = ["make", "-s", "-o", "sysdeps", "-o", "install", "-o", "migrate", "-o", "seed"]
    result = subprocess.run(
        [*probe, "run", "PY=printenv DEBUG; true"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "1"


def test_embedded_default_is_italian_rome_and_has_an_email_timeout():
    assert settings.LANGUAGE_CODE == "it"
    assert settings.TIME_ZONE == "Europe/Rome"
    assert settings.USE_TZ is True
    assert settings.EMAIL_TIMEOUT and settings.EMAIL_TIMEOUT <= 30


@pytest.mark.slow
def test_sqlite_embedded_default_migrates_and_seeds(tmp_path):
    """`make run`'s default: a fresh SQLite file, migrations and the demo data."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    env.pop("REDIS_URL", None)
    assert _manage("migrate", "-v0", env=env).returncode == 0
    seeded = _manage("seed_demo", env=env)
    assert seeded.returncode == 0, seeded.stderr
    assert "segreteria@example.org" in seeded.stdout


@pytest.mark.django_db
def test_seed_demo_is_faithful_to_the_announcement_and_idempotent():
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    course = Course.objects.get(code="C5092Z/1")
    assert course.title == "Gestione delle interdipendenze e welfare di iniziativa"
    assert course.capacity == 20
    assert str(course.enrollment_deadline) == "2026-03-12"
    assert "Viale Piceno, 60" in course.venue
    assert course.is_free and course.grants_fcoas_credits
    assert "ECM" in course.credits
    sessions = list(course.sessions.all())
    assert [str(s.date) for s in sessions] == ["2026-03-19", "2026-04-08", "2026-04-28"]
    assert sum(s.minutes for s in sessions) == 720
    assert ScheduleItem.objects.filter(session__course=course).count() == 12
    assert Course.objects.filter(code="C5092Z/2").count() == 1
    lab = Course.objects.get(code="LAB-WC/1")
    assert lab.capacity == 70
    assert {q.organisation_type: q.seats for q in lab.quotas.all()} == {
        "terzo_settore": 40,
        "comune": 30,
    }
    assert Session.objects.filter(course__code="C5092Z/1").count() == 3
    staff = User.objects.get(email="segreteria@example.org")
    assert staff.is_staff and staff.groups.filter(name="Segreteria").exists()


@pytest.mark.django_db
def test_seed_demo_adds_load_test_participants_with_complete_profiles():
    call_command("seed_demo", participants=30, password="pw-for-tests", stdout=io.StringIO())
    call_command("seed_demo", participants=30, password="pw-for-tests", stdout=io.StringIO())
    users = User.objects.filter(email__startswith="participant-")
    assert users.count() == 30
    user = users.get(email="participant-7@example.org")
    assert user.check_password("pw-for-tests")
    assert user.profile.is_complete


def test_healthz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}
