from __future__ import annotations

import re
import threading
import time

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.db import connection, transaction
from django.db.models import QuerySet
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import two_factor
from tests.factories import ParticipantFactory, SecretariatFactory, TOTPDeviceFactory

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
    # On to the backup codes, shown once, then where the person was going.
    assert ok.status_code == 302
    assert ok["Location"] == "/accounts/2fa/backup-codes/?next=%2Fsegreteria%2F"
    assert client.get("/segreteria/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_each_new_session_asks_for_a_code(client):
    staff = SecretariatFactory()
    device = TOTPDeviceFactory(user=staff)
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


# --- Backup codes --------------------------------------------------------------------------------


def _confirm_session(client, user) -> TOTPDevice:
    device = TOTPDeviceFactory(user=user)
    client.force_login(user)
    response = client.post("/accounts/2fa/", {"token": _code(device), "next": "/segreteria/"})
    assert response.status_code == 302  # to the page, or first to new backup codes
    return device


def _codes(html: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", html)


def test_setting_up_the_app_shows_ten_backup_codes_once(client):
    staff = SecretariatFactory()
    client.force_login(staff)
    client.get("/accounts/2fa/?next=/segreteria/")
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    response = client.post("/accounts/2fa/", {"token": _code(device), "next": "/segreteria/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/2fa/backup-codes/?next=%2Fsegreteria%2F"
    shown = client.get(response["Location"])
    assert "no-store" in shown["Cache-Control"]
    page = shown.content.decode()
    codes = _codes(page)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert 'href="/segreteria/"' in page  # then on to where the person was going
    again = client.get(response["Location"]).content.decode()
    assert _codes(again) == [] and "Ti restano 10 codici" in again
    assert client.get("/segreteria/").status_code == 200


def test_each_backup_code_confirms_one_session_only(client):
    staff = SecretariatFactory()
    TOTPDeviceFactory(user=staff)
    codes = two_factor.regenerate_backup_codes(user=staff)
    client.force_login(staff)
    response = client.post("/accounts/2fa/", {"token": codes[0].upper(), "next": "/segreteria/"})
    assert response.status_code == 302 and response["Location"] == "/segreteria/"
    assert client.get("/segreteria/").status_code == 200
    assert two_factor.count_backup_codes(staff) == 9
    # The same code in another session is refused; another code works.
    other = Client()
    other.force_login(staff)
    refused = other.post("/accounts/2fa/", {"token": codes[0], "next": "/segreteria/"})
    assert refused.status_code == 200 and "non è corretto" in refused.content.decode()
    assert other.get("/segreteria/").status_code == 302
    StaticDevice.objects.get(user=staff).throttle_reset()
    assert other.post("/accounts/2fa/", {"token": codes[1]}).status_code == 302
    assert other.get("/segreteria/").status_code == 200


def test_a_backup_code_does_not_throttle_the_app(client):
    staff = SecretariatFactory()
    device = TOTPDeviceFactory(user=staff)
    codes = two_factor.regenerate_backup_codes(user=staff)
    client.force_login(staff)
    client.post("/accounts/2fa/", {"token": codes[0]})
    device.refresh_from_db()
    assert device.throttling_failure_count == 0


def test_new_backup_codes_replace_the_old_ones(client):
    staff = SecretariatFactory()
    _confirm_session(client, staff)
    old = two_factor.regenerate_backup_codes(user=staff)
    response = client.post("/accounts/2fa/backup-codes/", {"next": "/segreteria/"})
    assert response.status_code == 302
    new = _codes(client.get(response["Location"]).content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    other = Client()
    other.force_login(staff)
    assert "non è corretto" in other.post("/accounts/2fa/", {"token": old[0]}).content.decode()
    StaticDevice.objects.get(user=staff).throttle_reset()
    assert other.post("/accounts/2fa/", {"token": new[0]}).status_code == 302


def test_backup_codes_need_a_confirmed_session(client):
    staff = SecretariatFactory()
    TOTPDeviceFactory(user=staff)
    old = two_factor.regenerate_backup_codes(user=staff)
    client.force_login(staff)
    for response in (
        client.get("/accounts/2fa/backup-codes/"),
        client.post("/accounts/2fa/backup-codes/"),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/2fa/?next=")
    assert sorted(StaticToken.objects.values_list("token", flat=True)) == sorted(old)
    client.force_login(ParticipantFactory())
    assert client.get("/accounts/2fa/backup-codes/").status_code == 403


def _race_for_the_same_code(staff, code: str) -> list[bool]:
    """Session A uses `code` and holds its transaction open; session B presents it meanwhile."""
    a_checked, a_may_commit = threading.Event(), threading.Event()
    results: dict[str, bool] = {}

    def session_a() -> None:
        try:
            with transaction.atomic():
                results["a"] = two_factor.match_confirmed_device(user=staff, token=code) is not None
                a_checked.set()
                a_may_commit.wait(timeout=10)
        finally:
            connection.close()

    def session_b() -> None:
        try:
            a_checked.wait(timeout=10)
            results["b"] = two_factor.match_confirmed_device(user=staff, token=code) is not None
        finally:
            connection.close()

    threads = [threading.Thread(target=session_a), threading.Thread(target=session_b)]
    for thread in threads:
        thread.start()
    a_checked.wait(timeout=10)
    time.sleep(0.5)  # B is now waiting on A's lock (or, without it, has read the code)
    a_may_commit.set()
    for thread in threads:
        thread.join(timeout=20)
    return [results["a"], results["b"]]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_backup_code_presented_twice_at_once_confirms_one_session():
    staff = SecretariatFactory()
    (code, *_rest) = two_factor.regenerate_backup_codes(user=staff)
    assert _race_for_the_same_code(staff, code) == [True, False]


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_control_without_the_device_lock_the_same_code_confirms_two_sessions(monkeypatch):
    # Shows the race the lock prevents: without it both sessions read the code before either
    # deletion commits.
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    staff = SecretariatFactory()
    (code, *_rest) = two_factor.regenerate_backup_codes(user=staff)
    assert _race_for_the_same_code(staff, code) == [True, True]


# --- An administrator resets a colleague's second factor -----------------------------------------


def test_an_administrator_resets_a_colleagues_second_factor_and_it_is_logged(client):
    admin_user = SecretariatFactory(is_superuser=True)
    colleague = SecretariatFactory()
    colleague_client = Client()
    _confirm_session(colleague_client, colleague)
    two_factor.regenerate_backup_codes(user=colleague)
    _confirm_session(client, admin_user)
    # when the administrator uses the action on the colleague
    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [colleague.pk]},
        follow=True,
    )
    assert "Secondo fattore azzerato per 1 utente" in response.content.decode()
    # then the app and the codes are gone, and the reset is logged with who and when
    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert not StaticDevice.objects.filter(user=colleague).exists()
    entry = LogEntry.objects.get(object_id=str(colleague.pk))
    assert entry.user == admin_user and entry.action_flag == CHANGE
    assert "Secondo fattore azzerato" in entry.change_message and entry.action_time
    # and the colleague's session must set the app up again
    response = colleague_client.get("/segreteria/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")
    page = colleague_client.get(response["Location"]).content.decode()
    assert 'src="data:image/svg+xml;base64,' in page
    # the administrator's own second factor is untouched
    assert TOTPDevice.objects.filter(user=admin_user).exists()


def test_the_secretariat_cannot_reset_second_factors(client):
    # The action needs the right to change users, which the "Segreteria" group does not give.
    staff = SecretariatFactory()
    colleague = SecretariatFactory()
    TOTPDeviceFactory(user=colleague)
    _confirm_session(client, staff)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [colleague.pk]},
    )
    assert response.status_code == 403
    assert TOTPDevice.objects.filter(user=colleague).exists()
    assert not LogEntry.objects.exists()


def test_an_app_set_up_before_backup_codes_existed_gets_them_at_the_next_login(client):
    staff = SecretariatFactory()
    device = TOTPDeviceFactory(user=staff)
    client.force_login(staff)
    response = client.post("/accounts/2fa/", {"token": _code(device), "next": "/segreteria/"})
    assert response["Location"] == "/accounts/2fa/backup-codes/?next=%2Fsegreteria%2F"
    assert len(_codes(client.get(response["Location"]).content.decode())) == 10


def test_using_the_last_backup_code_shows_new_ones_and_a_code_left_is_counted(client):
    staff = SecretariatFactory()
    TOTPDeviceFactory(user=staff)
    first, second = two_factor.regenerate_backup_codes(user=staff)[:2]
    StaticToken.objects.exclude(token__in=[first, second]).delete()
    client.force_login(staff)
    response = client.post("/accounts/2fa/", {"token": first, "next": "/segreteria/"}, follow=True)
    assert "te ne resta 1." in response.content.decode()
    other = Client()
    other.force_login(staff)
    response = other.post("/accounts/2fa/", {"token": second, "next": "/segreteria/"})
    assert response["Location"] == "/accounts/2fa/backup-codes/?next=%2Fsegreteria%2F"
    new = _codes(other.get(response["Location"]).content.decode())
    assert len(new) == 10 and second not in new
