from __future__ import annotations

import datetime as dt
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.utils import timezone

from attendance.models import Source
from attendance.services import record_attendance
from certificates.seal import get_ca_pem, reset_signer
from enrollment.models import Enrollment
from questionnaire.models import Completion
from tests.factories import CourseFactory, EnrollmentFactory, SessionFactory, TeacherFactory
from tests.questionnaire.factories import CompletionFactory


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "https://corsi.example.org"


@pytest.fixture
def fresh_signer():
    """For tests that change the signing settings: no cached signer before or after."""
    reset_signer()
    yield
    reset_signer()


@pytest.fixture
def ended_course(db):
    """Three 4-hour sessions (720 minutes) ending last week; grants 9 FCO.AS credits."""
    course = CourseFactory(
        sessions=0,
        code="C5092Z/1",
        title="La gestione strategica dei servizi di welfare",
        grants_fcoas_credits=True,
        fcoas_credits=9,
        scientific_lead="Susanna Galli",
        provider="SDA Bocconi",
    )
    course.teachers.add(TeacherFactory(name="Giovanni Fosti"), TeacherFactory(name="Elisa Neri"))
    today = timezone.localdate()
    for days_ago in (21, 14, 7):
        SessionFactory(course=course, date=today - dt.timedelta(days=days_ago))
    return course


def attend(enrollment: Enrollment, minutes: int) -> None:
    """Record `minutes` of presence, filling the course's sessions in order."""
    left = minutes
    for session in enrollment.course.sessions.order_by("date", "start"):
        chunk = min(left, session.minutes)
        record_attendance(
            enrollment=enrollment,
            session=session,
            minutes=chunk,
            recorded_by=None,
            source=Source.ADMIN,
        )
        left -= chunk
    assert left == 0


def complete_questionnaire(enrollment: Enrollment) -> Completion:
    return CompletionFactory(enrollment=enrollment)


@pytest.fixture
def make_eligible(ended_course):
    def make(minutes: int = 576, *, questionnaire: bool = True, **kwargs: object) -> Enrollment:
        enrollment = EnrollmentFactory(course=ended_course, **kwargs)
        attend(enrollment, minutes)
        if questionnaire:
            complete_questionnaire(enrollment)
        return enrollment

    return make


@pytest.fixture
def eligible(make_eligible) -> Enrollment:
    return make_eligible()


requires_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")


def openssl_verify(p7m: bytes, workdir: Path) -> tuple[bool, bytes, str]:
    """The reference command, against the CA the portal publishes at /verify/ca.pem."""
    ca = workdir / "ca.pem"
    ca.write_bytes(get_ca_pem())
    envelope, extracted = workdir / "x.pdf.p7m", workdir / "x.pdf"
    envelope.write_bytes(p7m)
    proc = subprocess.run(
        [
            "openssl", "cms", "-verify", "-cades", "-inform", "DER", "-binary",
            "-CAfile", str(ca), "-in", str(envelope), "-out", str(extracted),
        ],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    content = extracted.read_bytes() if extracted.exists() else b""
    return proc.returncode == 0, content, proc.stderr


def pdf_text(pdf: bytes, workdir: Path) -> str:
    path = workdir / "text.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_xmp(pdf: bytes, workdir: Path) -> str:
    path = workdir / "meta.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        ["pdfinfo", "-meta", str(path)], capture_output=True, text=True, check=True
    ).stdout


def pdf_fonts(pdf: bytes, workdir: Path) -> list[str]:
    """pdffonts' rows: name, type, encoding, embedded, subset, unicode..."""
    path = workdir / "fonts.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[2:]


@contextmanager
def broker_down() -> Iterator[None]:
    """Celery really sends (not eager) to a Redis address where nothing listens."""
    from portal.celery import app

    saved = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager = False
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.broker_url = saved
        app._pool = None
        app.amqp._producer_pool = None


@dataclass(frozen=True)
class LocalTSA:
    """A real RFC 3161 TSA process (tests/support/tsa.py) listening on 127.0.0.1."""

    url: str
    ca_pem_path: Path
    username: str
    password: str


def free_port() -> int:
    """A port where nothing listens (a TSA that is down, until something binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def run_tsa(directory: Path, *, username: str = "", password: str = "") -> Iterator[LocalTSA]:
    port = free_port()
    command = [sys.executable, "-m", "tests.support.tsa", str(directory), str(port)]
    if username:
        command += [username, password]
    root = Path(__file__).resolve().parents[2]
    process = subprocess.Popen(command, cwd=root)
    try:
        deadline = time.monotonic() + 20
        while not (directory / "ready").exists():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the test TSA did not start")
            time.sleep(0.05)
        yield LocalTSA(
            url=f"http://127.0.0.1:{port}/tsa",
            ca_pem_path=directory / "tsa-ca.pem",
            username=username,
            password=password,
        )
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def local_tsa(tmp_path_factory) -> Iterator[LocalTSA]:
    """One TSA process for the session, with HTTP basic authentication like a paid service."""
    with run_tsa(tmp_path_factory.mktemp("tsa"), username="portale", password="s3greto") as tsa:
        yield tsa


@pytest.fixture
def use_tsa(settings, local_tsa) -> LocalTSA:
    """The portal's settings pointing at the local TSA."""
    settings.TSA_URL = local_tsa.url
    settings.TSA_USERNAME = local_tsa.username
    settings.TSA_PASSWORD = local_tsa.password
    settings.TSA_TIMEOUT = 5
    settings.TSA_CA_PEM_PATH = str(local_tsa.ca_pem_path)
    return local_tsa
