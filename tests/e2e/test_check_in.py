"""QR check-in in a real browser: the participant's real code is shown to a fake camera, the
scanning page decodes it (vendored jsQR) and records entry and exit; the exit is made with the
network down and sent later with its original time."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import segno
from django.utils import timezone

from tests.e2e.conftest import BrowserSession
from tests.e2e.support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    UNAVAILABLE,
    describe_violations,
    run_axe,
    tick,
)

if UNAVAILABLE:
    pytest.skip(UNAVAILABLE, allow_module_level=True)

from playwright.sync_api import Browser, Playwright, expect

from attendance.models import Attendance, AttendanceChange, Scan, Source
from enrollment.tokens import make_check_in_token
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ParticipantFactory,
    SecretariatFactory,
    SessionFactory,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
]

WIDTH, HEIGHT = 640, 480


def write_y4m(path: Path, text: str, *, frames: int = 5) -> None:
    """A still video of `text` as a QR code on white (Y4M 4:2:0: grey pixels, neutral colour)."""
    rows = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=6, border=4)]
    size = len(rows)
    assert size <= HEIGHT, "the code must fit the frame"
    top, left = (HEIGHT - size) // 2, (WIDTH - size) // 2
    luma = bytearray(b"\xff" * (WIDTH * HEIGHT))
    for y, row in enumerate(rows):
        offset = (top + y) * WIDTH + left
        luma[offset : offset + size] = bytes(0x10 if dark else 0xEB for dark in row)
    chroma = b"\x80" * ((WIDTH // 2) * (HEIGHT // 2))
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{WIDTH} H{HEIGHT} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + bytes(luma) + chroma + chroma)


@pytest.fixture
def camera_browser(_playwright: Playwright, tmp_path: Path) -> Iterator[tuple[Browser, Path]]:
    """A Chromium of its own whose camera plays the file the test writes before scanning."""
    video = tmp_path / "camera.y4m"
    browser = _playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video}",
        ],
    )
    yield browser, video
    browser.close()


@pytest.fixture
def camera(
    request: pytest.FixtureRequest, camera_browser: tuple[Browser, Path], live_server: Any
) -> Iterator[tuple[BrowserSession, Path]]:
    browser, video = camera_browser
    session = BrowserSession(browser=browser, base_url=live_server.url, test_name=request.node.name)
    yield session, video
    session.close()


def test_secretariat_scans_entry_and_exit_and_the_minutes_reach_the_register(camera):
    e2e, video = camera
    # given a session running today and a confirmed participant with her personal code
    now = timezone.localtime().replace(second=0, microsecond=0)
    midnight = now.replace(hour=0, minute=0)
    entry_at = max(midnight + dt.timedelta(minutes=1), now - dt.timedelta(hours=3))
    exit_at = now - dt.timedelta(minutes=1)
    if exit_at - entry_at < dt.timedelta(minutes=2):
        pytest.skip("needs a few minutes of today behind us")
    course = CourseFactory(sessions=0, enrollment_deadline=now.date() - dt.timedelta(days=10))
    session = SessionFactory(course=course, date=now.date(), start=dt.time(0), end=dt.time(23, 59))
    person = ParticipantFactory(first_name="Lucia", last_name="Ferrari")
    enrollment = EnrollmentFactory(course=course, user=person)
    write_y4m(video, make_check_in_token(enrollment))
    staff = SecretariatFactory()

    # when the secretariat opens the scanning page at the entry time and starts the camera
    office = e2e.new_page("secretariat", user=staff, permissions=["camera"])
    office.clock.set_fixed_time(entry_at)
    office.goto(f"/segreteria/courses/{course.slug}/check-in/?session={session.pk}")
    expect(office.get_by_role("heading", name="Entrata e uscita in aula")).to_be_visible()
    office.get_by_role("button", name="Avvia la fotocamera").click()

    # then the code is read and the entry recorded at once, with the person's name
    result = office.locator("#check-in-result")
    expect(result).to_have_text(f"Entrata registrata: Lucia Ferrari, alle {entry_at:%H:%M}.")
    expect(office.locator("#check-in-inside")).to_have_text("1")
    e2e.step("entry", office)
    violations = run_axe(office)
    assert not violations, describe_violations(violations)

    # when the network drops and the exit is scanned: it waits in the queue with its time
    office.context.set_offline(True)
    office.clock.set_fixed_time(exit_at)
    tick(office.get_by_label("Uscita", exact=True))
    expect(office.locator("#check-in-queue")).to_have_text("1")
    office.get_by_role("button", name="Ferma la fotocamera").click()
    expect(result).to_contain_text("Connessione assente")
    e2e.step("queued", office)
    assert not Scan.objects.filter(kind=Scan.Kind.EXIT).exists()

    # when the network is back but the sign-in has expired meanwhile: the scan stays queued
    # and the page says what to do
    cookies = office.context.cookies()
    office.context.clear_cookies()
    office.clock.set_fixed_time(now)
    office.context.set_offline(False)
    expect(result).to_contain_text("accesso è scaduto", timeout=20_000)
    expect(office.locator("#check-in-queue")).to_have_text("1")
    e2e.step("signed-out", office)

    # and once signed in again it is sent, counted at the time it was scanned
    office.context.add_cookies(cookies)
    office.reload()
    expect(result).to_have_text(
        f"Uscita registrata: Lucia Ferrari, alle {exit_at:%H:%M}.", timeout=20_000
    )
    expect(office.locator("#check-in-queue")).to_have_text("0")
    expect(office.locator("#check-in-inside")).to_have_text("0")
    e2e.step("exit", office)

    # then the register shows her minutes, and the audit says they came from the QR scans
    minutes = (exit_at - entry_at) // dt.timedelta(minutes=1)
    office.goto(f"/segreteria/sessions/{session.pk}/register/")
    row = office.get_by_role("row", name=re.compile("Ferrari Lucia"))
    expect(row).to_contain_text(f"{minutes} min")
    expect(row).to_contain_text(f"{entry_at:%H.%M}–{exit_at:%H.%M}")
    attendance = Attendance.objects.get(enrollment=enrollment, session=session)
    assert attendance.minutes == minutes
    change = AttendanceChange.objects.get(attendance=attendance)
    assert change.source == Source.QR and change.changed_by == staff
    assert change.new_minutes == minutes
    assert Scan.objects.get(kind=Scan.Kind.EXIT).scanned_at == exit_at
