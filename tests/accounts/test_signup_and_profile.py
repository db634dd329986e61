from __future__ import annotations

import pytest

from accounts.models import Profile, User
from portal.demo_data import demo_codice_fiscale
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "first_name": "Maria",
    "last_name": "Esposito",
    "email": "Maria.Esposito@Comune.Example.org",
    "password1": "Un-Buona-Password-2026",
    "password2": "Un-Buona-Password-2026",
    "privacy_acknowledged": "on",
}


def test_signup_creates_account_and_leads_to_profile_then_back(client):
    response = client.post("/accounts/signup/?next=/courses/x/", SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/?next=/courses/x/"
    user = User.objects.get(email="maria.esposito@comune.example.org")
    assert not user.profile.is_complete
    cf = demo_codice_fiscale(4242, female=True)
    response = client.post(
        "/accounts/profile/",
        {
            "first_name": "Maria",
            "last_name": "Esposito",
            "codice_fiscale": cf.lower(),
            "profession": "assistente_sociale",
            "organisation": "Comune di Bollate",
            "organisation_type": "comune",
            "next": "/courses/x/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/courses/x/"
    profile = Profile.objects.get(user=user)
    assert profile.codice_fiscale == cf
    assert profile.is_complete


def test_signup_requires_privacy_acknowledgement_and_matching_passwords(client):
    data = {**SIGNUP, "password2": "different-Password-1"}
    data.pop("privacy_acknowledged")
    response = client.post("/accounts/signup/", data)
    assert response.status_code == 200
    assert not User.objects.exists()
    html = response.content.decode()
    assert "Le due password non coincidono" in html
    assert 'value="Maria"' in html  # the rest of the input is kept


def test_login_is_case_insensitive_on_email(client):
    user = ParticipantFactory(email="luca@example.org")
    response = client.post(
        "/accounts/login/", {"username": "LUCA@example.org", "password": "a-Strong-password-42"}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


def test_duplicate_email_is_refused(client):
    ParticipantFactory(email="maria.esposito@comune.example.org")
    response = client.post("/accounts/signup/", SIGNUP)
    assert response.status_code == 200
    assert User.objects.count() == 1


@pytest.mark.parametrize("bad", ["RSSMRA80A01F205Y", "ABC", "RSSMRA80A01F20"])
def test_invalid_codice_fiscale_is_rejected_with_a_message(client, bad):
    user = ParticipantFactory()
    client.force_login(user)
    before = user.profile.codice_fiscale
    response = client.post(
        "/accounts/profile/",
        {
            "first_name": "A",
            "last_name": "B",
            "codice_fiscale": bad,
            "profession": "dirigente",
            "organisation": "Comune",
            "organisation_type": "comune",
        },
    )
    assert response.status_code == 200
    assert "codice fiscale" in response.content.decode().lower()
    user.profile.refresh_from_db()
    assert user.profile.codice_fiscale == before


def test_codice_fiscale_cannot_belong_to_two_accounts(client):
    other = ParticipantFactory()
    user = ParticipantFactory()
    client.force_login(user)
    response = client.post(
        "/accounts/profile/",
        {
            "first_name": "A",
            "last_name": "B",
            "codice_fiscale": other.profile.codice_fiscale,
            "profession": "dirigente",
            "organisation": "Comune",
            "organisation_type": "comune",
        },
    )
    assert response.status_code == 200
    assert "già associato" in response.content.decode()


def test_password_reset_sends_an_email_in_italian(client, mailoutbox):
    ParticipantFactory(email="reset@example.org")
    response = client.post("/accounts/password-reset/", {"email": "reset@example.org"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    assert "password" in mailoutbox[0].body
    assert mailoutbox[0].alternatives  # HTML part


def test_profile_requires_login(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
