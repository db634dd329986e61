"""API keys are created and revoked in the admin; the raw key is shown once."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.messages import WARNING, get_messages

from api.models import ApiKey

pytestmark = pytest.mark.django_db


def test_the_admin_creates_a_key_and_shows_it_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "Gestionale", "organisation": "Comune di Milano", "scope": "write"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    key = ApiKey.objects.get()
    [message] = [str(m) for m in get_messages(response.wsgi_request) if m.level == WARNING]
    raw = next(word for word in message.split() if word.startswith(key.prefix))
    assert hashlib.sha256(raw.encode()).hexdigest() == key.hashed_key
    client.get(response.url)  # the message is shown (and consumed) on the next page
    # Editing the key later neither shows nor changes its secret.
    response = client.post(
        f"/admin/api/apikey/{key.pk}/change/",
        {"name": "Gestionale 2", "organisation": "Comune di Milano", "scope": "read"},
    )
    assert response.status_code == 302
    assert ApiKey.objects.get().hashed_key == key.hashed_key
    assert not [m for m in get_messages(response.wsgi_request) if m.level == WARNING]


def test_the_admin_action_revokes_keys(client, admin_user):
    from api.services import create_api_key

    key, _raw = create_api_key(name="G", organisation="Comune di Milano", scope="read")
    client.force_login(admin_user)
    response = client.post(
        "/admin/api/apikey/",
        {"action": "revoke", "_selected_action": [key.pk]},
    )
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None
