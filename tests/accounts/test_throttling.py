from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine
from django.utils import timezone

from tests.factories import PASSWORD, ParticipantFactory, SecretariatFactory

pytestmark = pytest.mark.django_db

PROXY = "172.18.0.5"
ALICE = "203.0.113.5"
BOB = "198.51.100.7"


@pytest.fixture
def behind_proxy(settings):
    settings.PROXY_COUNT = 1
    settings.LOGIN_FAILURES_PER_ADDRESS = "30/h"


def _login(client, email: str, password: str, *, origin: str = ALICE, path="/accounts/login/"):
    return client.post(
        path,
        {"username": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=origin,
    )


def test_login_is_locked_after_five_failures_even_with_the_right_password(client):
    user = ParticipantFactory(email="target@example.org")
    for _ in range(5):
        response = client.post(
            "/accounts/login/", {"username": user.email, "password": "wrong-password"}
        )
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "bloccato" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_failures_then_the_right_password_signs_in(client):
    user = ParticipantFactory(email="target@example.org")
    for _ in range(4):
        client.post("/accounts/login/", {"username": user.email, "password": "wrong-password"})
    response = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_login_failure_message_does_not_reveal_whether_the_account_exists(client):
    ParticipantFactory(email="known@example.org")
    known = client.post("/accounts/login/", {"username": "known@example.org", "password": "x"})
    unknown = client.post("/accounts/login/", {"username": "nobody@example.org", "password": "x"})
    assert known.status_code == unknown.status_code == 200

    def strip(html: str) -> str:
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
        return html.replace("known@example.org", "").replace("nobody@example.org", "")

    assert strip(known.content.decode()) == strip(unknown.content.decode())


def test_signup_is_rate_limited_per_address(client):
    data = {"first_name": "A", "last_name": "B", "email": "", "password1": "x", "password2": "y"}
    statuses = [
        client.post("/accounts/signup/", {**data, "email": f"u{i}@x.org"}).status_code
        for i in range(11)
    ]
    assert statuses[:10] == [200] * 10  # invalid forms, but counted
    assert statuses[10] == 429


def test_password_reset_is_rate_limited(client):
    statuses = [
        client.post("/accounts/password-reset/", {"email": f"u{i}@x.org"}).status_code
        for i in range(6)
    ]
    assert statuses[:5] == [302] * 5
    assert statuses[5] == 429


def test_password_reset_answers_alike_for_unknown_addresses(client, mailoutbox):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and mailoutbox == []


def test_lockout_counts_the_address_however_it_is_written(client):
    user = ParticipantFactory(email="giulia.bianchi@example.org")
    for written in ["giulia.bianchi@example.org"] * 3 + ["GIULIA.Bianchi@example.org "] * 2:
        client.post("/accounts/login/", {"username": written, "password": "wrong-password"})
    for written in [" Giulia.Bianchi@Example.org ", "GIULIA.BIANCHI@EXAMPLE.ORG"]:
        response = client.post("/accounts/login/", {"username": written, "password": PASSWORD})
        assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", ["/accounts/login/", "/admin/login/"])
def test_login_accepts_the_address_however_it_is_written(client, path):
    user = SecretariatFactory(email="giulia.bianchi@example.org")
    response = client.post(path, {"username": " Giulia.BIANCHI@Example.org ", "password": PASSWORD})
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_admin_login_lockout_counts_the_address_however_it_is_written(client):
    staff = SecretariatFactory(email="segreteria@example.org")
    for _ in range(5):
        client.post("/admin/login/", {"username": staff.email, "password": "wrong-password"})
    response = client.post(
        "/admin/login/", {"username": " Segreteria@Example.ORG", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_says_when_to_try_again(client):
    user = ParticipantFactory(email="target@example.org")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            client.post("/accounts/login/", {"username": user.email, "password": "wrong"})
        page = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert page.status_code == 429
    assert "Riprova tra 15 minuti" in page.content.decode()
    with time_machine.travel(start + dt.timedelta(minutes=10, seconds=30), tick=False):
        page = client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})
    assert page.status_code == 429
    assert "Riprova tra 5 minuti" in page.content.decode()


def test_one_address_cannot_spray_many_accounts(client, behind_proxy):
    # Three wrong passwords for each of ten accounts: below the per-account lockout every time.
    for i in range(10):
        for _ in range(3):
            assert _login(client, f"victim{i}@example.org", "guess").status_code == 200
    user = ParticipantFactory(email="last@example.org")
    refused = _login(client, user.email, PASSWORD)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "Riprova tra" in refused.content.decode() and "minut" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= 3600
    # Another address behind the same proxy is not affected.
    assert _login(client, user.email, PASSWORD, origin=BOB).status_code == 302


def test_one_address_cannot_spray_the_admin_login(client, behind_proxy):
    for i in range(10):
        for _ in range(3):
            _login(client, f"victim{i}@example.org", "guess", path="/admin/login/")
    staff = SecretariatFactory()
    refused = _login(client, staff.email, PASSWORD, path="/admin/login/")
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session
    assert (
        _login(client, staff.email, PASSWORD, origin=BOB, path="/admin/login/").status_code == 302
    )


def test_failures_on_the_site_and_the_admin_share_one_budget_per_address(client, behind_proxy):
    for i in range(15):
        _login(client, f"victim{i}@example.org", "guess")
        _login(client, f"other{i}@example.org", "guess", path="/admin/login/")
    user = ParticipantFactory()
    assert _login(client, user.email, PASSWORD).status_code == 429


def test_successful_logins_from_one_office_address_are_not_limited(client, behind_proxy):
    people = ParticipantFactory.create_batch(35)
    for person in people:
        assert _login(client, person.email, PASSWORD).status_code == 302
        client.logout()


def test_failures_from_other_addresses_do_not_lock_a_staff_member_out(client, behind_proxy):
    staff = SecretariatFactory()
    for attacker in ("192.0.2.1", "192.0.2.2"):
        for _ in range(6):
            _login(client, staff.email, "guess", origin=attacker)
    assert _login(client, staff.email, PASSWORD, origin=BOB).status_code == 302
    client.logout()
    assert (
        _login(client, staff.email, PASSWORD, path="/admin/login/", origin=BOB).status_code == 302
    )


def test_a_lockout_ends_after_the_cool_off_even_if_failures_go_on(client, behind_proxy, settings):
    staff = SecretariatFactory()
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(5):
            _login(client, staff.email, "guess")
    # Someone at the same address keeps trying during the lockout.
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        for _ in range(3):
            assert _login(client, staff.email, "guess").status_code == 429
    cool_off = dt.timedelta(hours=settings.AXES_COOLOFF_TIME)
    with time_machine.travel(start + cool_off - dt.timedelta(seconds=1), tick=False):
        assert _login(client, staff.email, PASSWORD).status_code == 429
    with time_machine.travel(start + cool_off + dt.timedelta(seconds=1), tick=False):
        assert _login(client, staff.email, PASSWORD).status_code == 302
