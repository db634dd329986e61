"""SPID and CIE through an OpenID Connect provider, against a real provider process.

tests/support/oidc_provider.py runs as its own HTTP process; the portal discovers it, sends the
browser (here: the test client, then `requests` standing in for the browser at the provider)
to its authorization endpoint and checks what comes back. Each refusal must leave no session
and no account behind.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth import SESSION_KEY

from accounts.models import OidcIdentity, Profile, User
from portal.demo_data import demo_codice_fiscale
from tests.factories import PASSWORD, ParticipantFactory, ProfileFactory, SecretariatFactory
from tests.support.oidc_processes import (
    CLIENT_ID,
    CLIENT_SECRET,
    LocalOidcProvider,
    run_test_provider,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

CF = demo_codice_fiscale(901)
ANNA = {
    "sub": "spid-anna",
    "given_name": "Anna",
    "family_name": "Verdi",
    "email": "anna.verdi@example.org",
    "fiscal_number": f"TINIT-{CF}",
}


@pytest.fixture(scope="module")
def test_provider(tmp_path_factory) -> Iterator[LocalOidcProvider]:
    with run_test_provider(tmp_path_factory.mktemp("oidc")) as provider:
        yield provider


@pytest.fixture
def provider(settings, test_provider) -> LocalOidcProvider:
    settings.OIDC_ISSUER = test_provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    test_provider.control(mode="good", person=ANNA)
    return test_provider


def _go_to_provider(client, method: str = "spid", next_url: str = "") -> str:
    """Press the button; follow the browser to the provider; return the callback URL."""
    path = f"/accounts/oidc/{method}/login/" + (f"?next={next_url}" if next_url else "")
    response = client.get(path)
    assert response.status_code == 302, response.content
    answer = requests.get(response["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def _come_back(client, callback: str):
    parts = urlsplit(callback)
    assert parts.path == "/accounts/oidc/callback/"
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, method: str = "spid", next_url: str = ""):
    return _come_back(client, _go_to_provider(client, method, next_url))


def _signed_in_as(client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value else None


# --- the flow itself ---


def test_authorization_request_uses_pkce_state_nonce_and_the_spid_level(client, provider):
    _go_to_provider(client)
    sent = provider.last()["authorize"]
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) >= 43
    assert sent["state"] and sent["nonce"]
    assert sent["acr_values"] == "https://www.spid.gov.it/SpidL2"
    assert sent["scope"] == "openid profile email"


def test_first_login_creates_an_active_account_with_verified_data(client, provider):
    response = sign_in(client)

    user = User.objects.get(email="anna.verdi@example.org")
    assert _signed_in_as(client) == user.pk
    assert user.is_active and not user.has_usable_password()
    assert (user.first_name, user.last_name) == ("Anna", "Verdi")
    profile = user.profile
    assert profile.codice_fiscale == CF
    assert set(profile.verified_fields) == {"codice_fiscale", "first_name", "last_name", "email"}
    assert profile.verified_by == "spid" and profile.verified_at is not None
    assert OidcIdentity.objects.get(user=user).subject == "spid-anna"
    # The token exchange sent the PKCE verifier.
    assert provider.last()["token"]["code_verifier"]
    # Organisation and profession are still missing: the profile comes next.
    assert response.status_code == 302 and response["Location"].startswith("/accounts/profile/")


def test_the_cie_button_records_cie(client, provider):
    sign_in(client, method="cie")
    assert Profile.objects.get(codice_fiscale=CF).verified_by == "cie"


def test_second_login_of_the_same_person_opens_the_same_account(client, provider, settings):
    sign_in(client)
    first = _signed_in_as(client)
    client.logout()

    response = sign_in(client)

    assert _signed_in_as(client) == first
    assert User.objects.count() == 1 and OidcIdentity.objects.count() == 1
    assert response.status_code == 302


def test_spid_then_cie_with_another_subject_opens_the_same_account(client, provider):
    sign_in(client, method="spid")
    first = _signed_in_as(client)
    client.logout()
    provider.control(mode="good", person={**ANNA, "sub": "cie-anna"})

    sign_in(client, method="cie")

    assert _signed_in_as(client) == first
    assert set(OidcIdentity.objects.values_list("subject", flat=True)) == {"spid-anna", "cie-anna"}
    assert Profile.objects.get().verified_by == "cie"


def test_a_typed_codice_fiscale_is_not_enough_to_link_without_the_password(client, provider):
    # An account whose codice fiscale was typed by hand (not vouched for) and another subject.
    ProfileFactory(codice_fiscale=CF)
    provider.control(mode="good", person={**ANNA, "sub": "someone"})

    response = sign_in(client)

    assert response["Location"] == "/accounts/oidc/link/"
    assert _signed_in_as(client) is None and not OidcIdentity.objects.exists()


def test_extra_authorization_parameters_per_button(client, provider, settings):
    settings.OIDC_SPID_AUTHORIZE_PARAMS = "idp_hint=spid"
    settings.OIDC_CIE_AUTHORIZE_PARAMS = "idp_hint=cie&prompt=login"

    _go_to_provider(client, "spid")
    spid = provider.last()["authorize"]
    _go_to_provider(client, "cie")
    cie = provider.last()["authorize"]

    assert spid["idp_hint"] == "spid" and "prompt" not in spid
    assert cie["idp_hint"] == "cie" and cie["prompt"] == "login"


def test_a_complete_profile_goes_to_the_page_asked_for(client, provider):
    sign_in(client)
    user = User.objects.get()
    Profile.objects.filter(user=user).update(
        profession="assistente_sociale", organisation="Comune di Lodi", organisation_type="comune"
    )
    client.logout()

    response = sign_in(client, next_url="/my/enrollments/")

    assert response["Location"] == "/my/enrollments/"


def test_verified_fields_are_read_only_on_the_profile(client, provider):
    sign_in(client)

    page = client.get("/accounts/profile/")
    form = page.context["form"]
    assert form.fields["codice_fiscale"].disabled
    assert form.fields["first_name"].disabled and form.fields["last_name"].disabled
    assert 'name="codice_fiscale"' in page.content.decode()

    # A forged post cannot change them; the other fields are saved.
    client.post(
        "/accounts/profile/",
        {
            "first_name": "Mallory",
            "last_name": "Intrusa",
            "codice_fiscale": demo_codice_fiscale(902),
            "profession": "assistente_sociale",
            "organisation": "Comune di Lodi",
            "organisation_type": "comune",
        },
    )
    user = User.objects.get()
    assert (user.first_name, user.last_name, user.profile.codice_fiscale) == ("Anna", "Verdi", CF)
    assert user.profile.organisation == "Comune di Lodi"


def test_update_profile_service_keeps_verified_values(provider, client):
    from accounts.services import update_profile

    sign_in(client)
    user = User.objects.get()
    update_profile(
        user=user,
        first_name="Altro",
        last_name="Nome",
        codice_fiscale=demo_codice_fiscale(903),
        organisation="ATS",
    )
    user.refresh_from_db()
    assert (user.first_name, user.profile.codice_fiscale) == ("Anna", CF)
    assert user.profile.organisation == "ATS"


# --- linking to an existing account ---


def test_account_with_the_same_codice_fiscale_is_linked_after_its_password(client, provider):
    existing = ProfileFactory(codice_fiscale=CF, user__email="anna@comune.example.org").user

    response = sign_in(client)

    assert response["Location"] == "/accounts/oidc/link/"
    assert _signed_in_as(client) is None and not OidcIdentity.objects.exists()
    page = client.get("/accounts/oidc/link/")
    assert "a•••@comune.example.org" in page.content.decode()

    wrong = client.post("/accounts/oidc/link/", {"password": "not-the-password"})
    assert wrong.status_code == 200 and "La password non è corretta" in wrong.content.decode()
    assert _signed_in_as(client) is None and not OidcIdentity.objects.exists()

    client.post("/accounts/oidc/link/", {"password": PASSWORD})

    assert _signed_in_as(client) == existing.pk
    assert OidcIdentity.objects.get().user == existing
    existing.refresh_from_db()
    assert existing.email == "anna@comune.example.org"  # the login address stays
    assert existing.first_name == "Anna" and "codice_fiscale" in existing.profile.verified_fields
    # Only an e-mail that matches the account's is marked verified.
    assert "email" not in existing.profile.verified_fields
    assert User.objects.count() == 1

    # From now on SPID alone is enough.
    client.logout()
    sign_in(client)
    assert _signed_in_as(client) == existing.pk


def test_a_pending_link_belongs_to_the_session_that_came_back(client, provider):
    from django.test import Client

    ProfileFactory(codice_fiscale=CF, user__email="anna@comune.example.org")
    sign_in(client)
    stranger = Client()

    page = stranger.get("/accounts/oidc/link/")
    posted = stranger.post("/accounts/oidc/link/", {"password": PASSWORD})

    assert page["Location"] == posted["Location"] == "/accounts/login/"
    assert not OidcIdentity.objects.exists()


def test_linking_is_throttled_like_the_login(client, provider):
    ProfileFactory(codice_fiscale=CF, user__email="anna@comune.example.org")
    sign_in(client)
    for _ in range(5):
        client.post("/accounts/oidc/link/", {"password": "wrong"})

    locked = client.post("/accounts/oidc/link/", {"password": PASSWORD})

    assert locked.status_code == 429
    assert _signed_in_as(client) is None and not OidcIdentity.objects.exists()


def test_account_with_the_same_email_and_no_codice_fiscale_needs_its_password(client, provider):
    existing = ParticipantFactory(email="anna.verdi@example.org", profile__codice_fiscale="")

    response = sign_in(client)

    assert response["Location"] == "/accounts/oidc/link/"
    client.post("/accounts/oidc/link/", {"password": PASSWORD})
    existing.profile.refresh_from_db()
    assert existing.profile.codice_fiscale == CF
    assert "email" in existing.profile.verified_fields


def test_an_email_of_someone_with_another_codice_fiscale_is_not_taken_over(client, provider):
    other = ParticipantFactory(
        email="anna.verdi@example.org", profile__codice_fiscale=demo_codice_fiscale(904)
    )

    response = sign_in(client)

    assert response.status_code == 400
    assert "appartiene a un account intestato a un altro codice fiscale" in (
        response.content.decode()
    )
    assert _signed_in_as(client) is None and not OidcIdentity.objects.exists()
    other.profile.refresh_from_db()
    assert other.profile.codice_fiscale == demo_codice_fiscale(904)
    assert other.profile.verified_fields == []


def test_a_never_activated_sign_up_with_that_email_becomes_the_spid_account(client, provider):
    pending = User.objects.create_user(
        email="anna.verdi@example.org", password="chosen-by-someone", is_active=False
    )

    sign_in(client)

    pending.refresh_from_db()
    assert _signed_in_as(client) == pending.pk
    assert pending.is_active and not pending.has_usable_password()


def test_staff_signing_in_with_spid_still_need_their_second_factor(client, provider, settings):
    settings.STAFF_2FA_REQUIRED = True
    staff = SecretariatFactory(email="anna.verdi@example.org")
    Profile.objects.create(user=staff, codice_fiscale=CF)
    sign_in(client)
    client.post("/accounts/oidc/link/", {"password": PASSWORD})
    assert _signed_in_as(client) == staff.pk

    response = client.get("/segreteria/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/")


# --- refusals: a clear page, no session, nothing created ---


def _assert_refused(client, response, text: str) -> None:
    assert response.status_code in (400, 502)
    assert "Accesso con SPID o CIE non riuscito" in response.content.decode()
    assert text in response.content.decode()
    assert _signed_in_as(client) is None
    assert not User.objects.exists() and not OidcIdentity.objects.exists()


TOKEN_TEXT = "non è valida (firma, destinatario o scadenza)"


@pytest.mark.parametrize(
    ("mode", "text", "reason"),
    [
        ("wrong_aud", TOKEN_TEXT, "Invalid claim: 'aud'"),
        ("wrong_issuer", TOKEN_TEXT, "Invalid claim: 'iss'"),
        ("wrong_nonce", TOKEN_TEXT, "Invalid claim: 'nonce'"),
        ("unsigned", TOKEN_TEXT, "Algorithm of 'none' is not allowed"),
        ("bad_signature", TOKEN_TEXT, "BadSignatureError"),
        # Advertised by the provider, but not in OIDC_ID_TOKEN_ALGORITHMS.
        ("hs256", TOKEN_TEXT, "Algorithm of 'HS256' is not allowed"),
        ("no_id_token", TOKEN_TEXT, "no id token"),
        ("expired", "è scaduta", "id token expired"),
        ("access_denied", "annullato o rifiutato", "provider: access_denied"),
    ],
)
def test_a_bad_answer_from_the_provider_is_refused(client, provider, caplog, mode, text, reason):
    provider.control(mode=mode, person=ANNA)

    _assert_refused(client, sign_in(client), text)

    # Refused for the reason meant, not for another one.
    assert reason in caplog.text


def test_a_callback_with_another_state_is_refused(client, provider):
    callback = _go_to_provider(client)
    tampered = callback.replace("state=", "state=x")

    _assert_refused(client, _come_back(client, tampered), "non è partita da questo sito")


def test_a_callback_from_another_browser_is_refused(client, provider, django_user_model):
    from django.test import Client

    callback = _go_to_provider(client)
    stranger = Client()

    _assert_refused(stranger, _come_back(stranger, callback), "non è partita da questo sito")


def test_a_code_works_only_once(client, provider):
    callback = _go_to_provider(client)
    _come_back(client, callback)
    client.logout()

    response = _come_back(client, callback)

    assert response.status_code == 400 and _signed_in_as(client) is None


@pytest.mark.parametrize(
    "fiscal_number", ["", "TINIT-RSSMRA80A01F205Y", "TINIT-12345678901", "RSSMRA80A01"]
)
def test_a_missing_or_invalid_codice_fiscale_is_refused(client, provider, fiscal_number):
    provider.control(mode="good", person={**ANNA, "fiscal_number": fiscal_number})

    _assert_refused(client, sign_in(client), "codice fiscale personale valido")


def test_no_email_and_no_account_is_refused_with_a_way_out(client, provider):
    provider.control(mode="good", person={k: v for k, v in ANNA.items() if k != "email"})

    _assert_refused(client, sign_in(client), "registrati con e-mail e password")


def test_a_provider_that_does_not_answer_gives_a_clear_page(client, settings, provider):
    from tests.support.oidc_processes import free_port

    settings.OIDC_ISSUER = f"http://127.0.0.1:{free_port()}"

    response = client.get("/accounts/oidc/spid/login/")

    assert response.status_code == 502
    assert "non risponde" in response.content.decode()


# --- the login page, logout ---


def test_login_page_shows_the_buttons_only_when_configured(client, settings, provider):
    page = client.get("/accounts/login/").content.decode()
    assert "Entra con SPID" in page and "Entra con CIE" in page
    assert "spid-ico-circle-bb.svg" in page

    settings.OIDC_ISSUER = ""
    page = client.get("/accounts/login/").content.decode()
    assert "Entra con SPID" not in page
    assert client.get("/accounts/oidc/spid/login/").status_code == 404
    assert client.get("/accounts/oidc/callback/").status_code == 404


def test_unknown_button_is_not_found(client, provider):
    assert client.get("/accounts/oidc/google/login/").status_code == 404


def test_password_login_can_be_kept_for_staff_only(client, settings, provider):
    settings.PASSWORD_LOGIN_ENABLED = False
    participant = ParticipantFactory()
    staff = SecretariatFactory()

    page = client.get("/accounts/login/").content.decode()
    assert 'name="password"' not in page and "Entra con SPID" in page
    assert 'name="password"' in client.get("/accounts/login/?password=1").content.decode()

    refused = client.post("/accounts/login/", {"username": participant.email, "password": PASSWORD})
    assert refused.status_code == 200 and "accedono con SPID o CIE" in refused.content.decode()
    assert _signed_in_as(client) is None

    client.post("/accounts/login/", {"username": staff.email, "password": PASSWORD})
    assert _signed_in_as(client) == staff.pk

    client.logout()
    assert client.get("/accounts/signup/")["Location"] == "/accounts/login/"
    # No page offers the sign-up any more.
    assert 'href="/accounts/signup/"' not in client.get("/accounts/login/").content.decode()


def test_logout_ends_the_session_at_the_provider_too(client, provider):
    sign_in(client)
    id_token = client.session["oidc_id_token"]

    response = client.post("/accounts/logout/")

    assert _signed_in_as(client) is None
    target = urlsplit(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.issuer}/end_session"
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert query["id_token_hint"] == id_token
    assert query["post_logout_redirect_uri"] == "http://testserver/"
    assert query["client_id"] == CLIENT_ID


def test_logout_of_a_password_session_stays_here(client, provider):
    user = ParticipantFactory()
    client.force_login(user)

    response = client.post("/accounts/logout/")

    assert response["Location"] == "/"


def test_the_logout_form_may_be_sent_on_to_the_provider(client, settings):
    from portal.settings import oidc_form_action

    assert oidc_form_action("") == ["'self'"]
    assert oidc_form_action("https://iam.example.org/oidc/op") == [
        "'self'",
        "https://iam.example.org",
    ]


def test_erasure_forgets_the_identity(client, provider):
    from accounts.services import anonymise_user

    sign_in(client)
    user = User.objects.get()

    anonymise_user(user=user)

    assert not OidcIdentity.objects.exists()
    profile = Profile.objects.get(user=user)
    assert profile.verified_fields == [] and profile.codice_fiscale == ""


def test_profile_says_what_was_verified_and_the_export_lists_the_identity(client, provider):
    from accounts.personal_data import export_personal_data

    sign_in(client)
    user = User.objects.get()

    page = client.get("/accounts/profile/").content.decode()
    data = export_personal_data(user)

    assert "verificati con SPID" in page
    assert data["digital_identities"][0]["subject"] == "spid-anna"
    assert data["profile"]["verified_by"] == "spid"


def test_a_known_identity_whose_codice_fiscale_changed_is_refused(client, provider):
    sign_in(client)
    client.logout()
    provider.control(
        mode="good", person={**ANNA, "fiscal_number": f"TINIT-{demo_codice_fiscale(905)}"}
    )

    response = sign_in(client)

    assert response.status_code == 400 and "non corrisponde" in response.content.decode()
    assert _signed_in_as(client) is None
    assert Profile.objects.get().codice_fiscale == CF


def test_settings_refuse_an_issuer_without_client_credentials_and_open_form_action():
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action'])"
    )

    def run(**env: str) -> subprocess.CompletedProcess[str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("OIDC_")}
        clean.update(env, DEBUG="1", DJANGO_SETTINGS_MODULE="portal.settings")
        return subprocess.run(
            [sys.executable, "-c", code], cwd=root, env=clean, capture_output=True, text=True
        )

    missing = run(OIDC_ISSUER="https://iam.example.org/OIDC")
    assert missing.returncode != 0 and "OIDC_CLIENT_SECRET" in missing.stderr

    ok = run(OIDC_ISSUER="https://iam.example.org/OIDC", OIDC_CLIENT_ID="a", OIDC_CLIENT_SECRET="b")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "[\"'self'\", 'https://iam.example.org']"
