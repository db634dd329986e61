from __future__ import annotations

import re

import pytest

from tests.factories import PASSWORD, ParticipantFactory

pytestmark = pytest.mark.django_db


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
