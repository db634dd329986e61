"""The signed-in user's row is read from the cache, and never outlives a change to it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

PAGE = "/my/enrollments/"


def _user_queries(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PAGE)
    sqls = [q["sql"] for q in queries.captured_queries]
    return response.status_code, sum('FROM "accounts_user"' in sql for sql in sqls)


def test_second_request_reads_the_user_from_the_cache(client):
    client.force_login(ParticipantFactory())
    assert _user_queries(client) == (200, 1)
    assert _user_queries(client) == (200, 0)


def test_a_deactivated_user_is_signed_out_at_the_next_request(client):
    user = ParticipantFactory()
    client.force_login(user)
    assert client.get(PAGE).status_code == 200  # now cached
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_a_password_change_signs_out_the_other_sessions(client, django_user_model):
    user = ParticipantFactory()
    client.force_login(user)
    assert client.get(PAGE).status_code == 200  # now cached
    user.set_password("another-long-passphrase-42")
    user.save()
    assert client.get(PAGE).status_code == 302


def test_a_new_name_shows_at_the_next_request(client):
    user = ParticipantFactory(first_name="Maria")
    client.force_login(user)
    client.get(PAGE)
    user.first_name = "Mariagrazia"
    user.save()
    assert "Mariagrazia" in client.get(PAGE).content.decode()


def test_a_deleted_user_is_signed_out(client):
    user = ParticipantFactory()
    client.force_login(user)
    client.get(PAGE)
    user.delete()
    assert client.get(PAGE).status_code == 302
