from __future__ import annotations

import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import ParticipantFactory, SecretariatFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _required(settings):
    settings.STAFF_2FA_REQUIRED = True


def _code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def test_staff_must_set_up_the_app_before_secretariat_pages(client):
    staff = SecretariatFactory()
    client.force_login(staff)
    response = client.get("/segreteria/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/?next=%2Fsegreteria%2F"
    page = client.get(response["Location"]).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    wrong = client.post("/accounts/2fa/?next=/segreteria/", {"token": "000000"})
    assert "non è corretto" in wrong.content.decode()
    assert client.get("/segreteria/").status_code == 302
    # A wrong code throttles the device for a second; the person would simply retry.
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    device.throttle_reset()
    ok = client.post("/accounts/2fa/", {"token": _code(device), "next": "/segreteria/"})
    assert ok.status_code == 302 and ok["Location"] == "/segreteria/"
    assert client.get("/segreteria/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_each_new_session_asks_for_a_code(client):
    staff = SecretariatFactory()
    device = TOTPDevice.objects.create(user=staff, name="App", confirmed=True)
    client.force_login(staff)
    response = client.get("/segreteria/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "data:image/svg" not in page  # no new QR code once set up: just the code
    assert re.search(r'autocomplete="one-time-code"', page)
    client.post("/accounts/2fa/", {"token": _code(device), "next": "/segreteria/"})
    assert client.get("/segreteria/").status_code == 200


def test_participants_are_not_asked_for_a_second_factor(client):
    client.force_login(ParticipantFactory())
    assert client.get("/my/enrollments/").status_code == 200
    assert client.get("/segreteria/").status_code == 403


def test_a_secretariat_group_member_without_the_staff_flag_sets_up_the_app_too(client):
    member = SecretariatFactory(is_staff=False)
    client.force_login(member)
    response = client.get("/segreteria/courses/x/enrollments/export.csv")
    assert response["Location"].startswith("/accounts/2fa/")
    page = client.get(response["Location"])
    assert page.status_code == 200  # the set-up page, not a redirect back (a loop)
    assert 'src="data:image/svg+xml;base64,' in page.content.decode()
    device = TOTPDevice.objects.get(user=member, confirmed=False)
    client.post("/accounts/2fa/", {"token": _code(device), "next": "/segreteria/"})
    # Confirmed, the member still lacks the staff flag: the page itself answers 403.
    assert client.get("/segreteria/").status_code == 403
