from __future__ import annotations

import re

import pytest
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

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
}

OWNER_PASSWORD = "Scelta-Dalla-Titolare-2026"
ACTIVATION = {"new_password1": OWNER_PASSWORD, "new_password2": OWNER_PASSWORD}


def _link(message) -> str:
    return re.search(r"http://[^/\s]+(/\S+)", message.body).group(1)


def test_signup_confirms_the_address_then_leads_to_profile_and_back(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/?next=/courses/x/", SIGNUP)
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"
    user = User.objects.get(email="maria.esposito@comune.example.org")
    assert not user.is_active  # nothing works until the address is confirmed
    assert "_auth_user_id" not in client.session
    (message,) = mailoutbox
    assert message.subject.startswith("Conferma il tuo indirizzo")
    page = client.get(_link(message))
    assert page.status_code == 200 and 'name="next" value="/courses/x/"' in page.content.decode()
    response = client.post(_link(message), {**ACTIVATION, "next": "/courses/x/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/?next=%2Fcourses%2Fx%2F"
    user.refresh_from_db()
    assert user.is_active and int(client.session["_auth_user_id"]) == user.pk
    assert client.get(_link(message)).status_code == 302  # used once: refused, no login change
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


def test_signup_shows_the_privacy_notice_and_asks_no_consent(client):
    html = client.get("/accounts/signup/").content.decode()
    assert "Informativa sul trattamento dei dati personali" in html
    assert "art. 6, par. 1, lett. e" in html
    # The only checkbox is the optional news consent: signing up needs no consent.
    assert html.count('type="checkbox"') == 1 and "facoltativo" in html


def test_signup_requires_matching_passwords(client):
    data = {**SIGNUP, "password2": "different-Password-1"}
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


def test_signup_with_a_registered_address_reveals_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    existing = ParticipantFactory(email="maria.esposito@comune.example.org")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", SIGNUP)
    # The same answer as for a new address; the owner is told by e-mail instead.
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"
    assert User.objects.count() == 1
    existing.refresh_from_db()
    assert existing.check_password("a-Strong-password-42")  # untouched
    (message,) = mailoutbox
    assert message.to == [existing.email] and "già registrato" in message.subject


def test_activation_link_is_tamper_proof(client):
    user = ParticipantFactory(is_active=False)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.get(f"/accounts/activate/{uid}/forged-token/", follow=True)
    assert "non è valido" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active


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


# --- Accounts nobody can pre-register or lose -----------------------------------------------------


def _sign_up(client, django_capture_on_commit_callbacks, **changes):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/signup/", {**SIGNUP, **changes})
    assert response.status_code == 302 and response["Location"] == "/accounts/signup/done/"


def _logs_in(password: str) -> bool:
    from django.test import Client

    response = Client().post(
        "/accounts/login/", {"username": SIGNUP["email"], "password": password}
    )
    return response.status_code == 302


def test_activation_link_opened_twice_changes_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # Mail scanners open every link: only the page's button (a POST) activates.
    _sign_up(client, django_capture_on_commit_callbacks)
    link = _link(mailoutbox[0])
    for _attempt in range(2):
        page = client.get(link)
        assert page.status_code == 200
        assert 'type="password"' in page.content.decode()
    user = User.objects.get()
    assert not user.is_active and user.last_login is None
    assert "_auth_user_id" not in client.session


def test_activation_needs_the_password_chosen_on_the_page(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    _sign_up(client, django_capture_on_commit_callbacks)
    link = _link(mailoutbox[0])
    response = client.post(link, {"new_password1": OWNER_PASSWORD, "new_password2": "other-2026"})
    assert response.status_code == 200
    assert User.objects.get().is_active is False
    assert "_auth_user_id" not in client.session
    response = client.post(link, {})
    assert response.status_code == 200 and User.objects.get().is_active is False


def test_a_third_party_who_registered_the_address_cannot_log_in_after_the_owner_activates(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # given someone else signed up with Maria's address and their own password
    _sign_up(client, django_capture_on_commit_callbacks)
    third_party_password = SIGNUP["password1"]
    # when Maria opens the link in her mailbox and chooses her password
    response = client.post(_link(mailoutbox[0]), ACTIVATION)
    assert response.status_code == 302
    # then only her password opens the account
    assert User.objects.get().is_active
    assert not _logs_in(third_party_password)
    assert _logs_in(OWNER_PASSWORD)


def test_signing_up_again_before_activating_sends_a_fresh_link_and_retires_the_old(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    _sign_up(client, django_capture_on_commit_callbacks)
    _sign_up(
        client,
        django_capture_on_commit_callbacks,
        first_name="Maria Grazia",
        password1="Nuova-Password-Titolare-9",
        password2="Nuova-Password-Titolare-9",
    )
    # The same answer both times; one account, and a second activation e-mail.
    user = User.objects.get()
    assert user.first_name == "Maria Grazia" and not user.is_active
    first, second = mailoutbox
    assert first.subject.startswith("Conferma il tuo indirizzo")
    assert second.subject.startswith("Conferma il tuo indirizzo")
    assert _link(first) != _link(second)
    # The old link no longer works, the new one does.
    old = client.get(_link(first), follow=True)
    assert "non è valido" in old.content.decode()
    assert client.post(_link(first), ACTIVATION).status_code == 302
    assert not User.objects.get().is_active
    assert client.get(_link(second)).status_code == 200
    client.post(_link(second), ACTIVATION)
    assert User.objects.get().is_active


def test_signing_up_again_with_an_active_account_changes_nothing_and_sends_no_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    existing = ParticipantFactory(email="maria.esposito@comune.example.org", is_active=True)
    _sign_up(client, django_capture_on_commit_callbacks)
    existing.refresh_from_db()
    assert existing.check_password("a-Strong-password-42") and existing.first_name != "Maria"
    (message,) = mailoutbox
    assert "già registrato" in message.subject and "/accounts/activate/" not in message.body


def test_a_deactivated_account_that_was_used_is_not_taken_over_by_signing_up(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    # An account the secretariat switched off is not "never activated": it keeps its password.
    from django.utils import timezone

    existing = ParticipantFactory(
        email="maria.esposito@comune.example.org", is_active=False, last_login=timezone.now()
    )
    _sign_up(client, django_capture_on_commit_callbacks)
    existing.refresh_from_db()
    assert existing.check_password("a-Strong-password-42") and not existing.is_active
    assert all("/accounts/activate/" not in message.body for message in mailoutbox)


def test_password_reset_of_a_never_activated_account_sends_an_activation_link(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    _sign_up(client, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/accounts/password-reset/", {"email": "MARIA.esposito@comune.example.org"}
        )
    assert response.status_code == 302 and response["Location"] == "/accounts/password-reset/done/"
    (message,) = mailoutbox
    assert message.subject.startswith("Conferma il tuo indirizzo")
    client.post(_link(message), ACTIVATION)
    assert User.objects.get().is_active and _logs_in(OWNER_PASSWORD)


def test_password_reset_of_an_unknown_address_sends_nothing(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and mailoutbox == []


def test_activation_page_of_a_forged_link_changes_nothing(client):
    user = ParticipantFactory(is_active=False)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    response = client.post(f"/accounts/activate/{uid}/forged-token/", ACTIVATION, follow=True)
    assert "non è valido" in response.content.decode()
    user.refresh_from_db()
    assert not user.is_active and user.check_password("a-Strong-password-42")
