"""One notion of the client's address behind the reverse proxy (PROXY_COUNT)."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings as django_settings
from django.test import RequestFactory

from core.client_ip import ClientAddressLogFilter, address_from_meta, client_ip
from tests.factories import PASSWORD, ParticipantFactory

PROXY = "172.18.0.5"  # nginx's address on the compose network
ALICE = "203.0.113.5"
BOB = "198.51.100.7"

SIGNUP = {"first_name": "A", "last_name": "B", "password1": "x", "password2": "y"}


def _signup(client, n: int, **headers: str) -> int:
    data = {**SIGNUP, "email": f"u{n}@x.org"}
    return client.post("/accounts/signup/", data, **headers).status_code


@pytest.mark.parametrize(
    ("forwarded", "proxy_count", "expected"),
    [
        (None, 0, PROXY),
        (ALICE, 0, PROXY),  # no trusted proxy: the header is the client's own claim
        (ALICE, 1, ALICE),
        (f"6.6.6.6, {ALICE}", 1, ALICE),  # a forged entry on the left is ignored
        (f"6.6.6.6,{ALICE} , 10.0.0.2", 2, ALICE),  # two proxies: second from the right
        (ALICE, 2, ALICE),  # fewer entries than proxies: the farthest one known
        (None, 1, PROXY),  # reached gunicorn without the proxy
        ("not-an-address", 1, PROXY),
        (f"[{ALICE}]:443", 1, PROXY),
    ],
)
def test_address_from_meta(forwarded, proxy_count, expected):
    meta = {"REMOTE_ADDR": PROXY}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    assert address_from_meta(meta, proxy_count=proxy_count) == expected


def test_client_ip_follows_the_proxy_count_setting(settings):
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ALICE)
    settings.PROXY_COUNT = 0
    assert client_ip(request) == PROXY
    settings.PROXY_COUNT = 1
    assert client_ip(request) == ALICE


def test_one_setting_drives_axes_and_every_rate_limit():
    assert django_settings.AXES_CLIENT_IP_CALLABLE == "core.client_ip.client_ip"
    assert django_settings.RATELIMIT_IP_META_KEY == "core.client_ip.client_ip"


@pytest.mark.django_db
def test_without_trusted_proxies_a_forged_forwarded_for_does_not_escape_the_limit(client, settings):
    settings.PROXY_COUNT = 0
    statuses = [
        _signup(client, i, REMOTE_ADDR=ALICE, HTTP_X_FORWARDED_FOR=f"10.9.9.{i}") for i in range(11)
    ]
    assert statuses[:10] == [200] * 10
    assert statuses[10] == 429


@pytest.mark.django_db
def test_behind_one_proxy_each_forwarded_address_has_its_own_signup_limit(client, settings):
    settings.PROXY_COUNT = 1
    alice = [_signup(client, i, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ALICE) for i in range(10)]
    assert alice == [200] * 10
    # Alice's 11th is refused, also when she forges an address to the left of the proxy's entry.
    assert _signup(client, 10, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ALICE) == 429
    forged = f"10.9.9.9, {ALICE}"
    assert _signup(client, 11, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forged) == 429
    # Bob, behind the same proxy, is not affected.
    assert _signup(client, 12, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=BOB) == 200


@pytest.mark.django_db
def test_behind_one_proxy_the_login_lockout_is_keyed_on_the_forwarded_address(client, settings):
    settings.PROXY_COUNT = 1
    user = ParticipantFactory(email="target@example.org")
    for _ in range(5):
        client.post(
            "/accounts/login/",
            {"username": user.email, "password": "wrong"},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=ALICE,
        )
    locked = client.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=ALICE,
    )
    assert locked.status_code == 429
    elsewhere = client.post(
        "/accounts/login/",
        {"username": user.email, "password": PASSWORD},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=BOB,
    )
    assert elsewhere.status_code == 302
    assert int(client.session["_auth_user_id"]) == user.pk


@pytest.mark.django_db
def test_log_records_carry_the_client_address(client, settings, secretariat):
    settings.PROXY_COUNT = 1
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep()
    handler.addFilter(ClientAddressLogFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.force_login(ParticipantFactory())
        response = client.get("/segreteria/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ALICE)
    finally:
        logger.removeHandler(handler)
    assert response.status_code == 403
    assert records and {r.client_ip for r in records} == {ALICE}


def test_log_records_outside_a_request_get_a_placeholder():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "message", None, None)
    assert ClientAddressLogFilter().filter(record) is True
    assert record.client_ip == "-"


def test_console_log_lines_show_the_client_address():
    console = django_settings.LOGGING["handlers"]["console"]
    assert "client_address" in console["filters"]
    filters = django_settings.LOGGING["filters"]
    assert filters["client_address"]["()"] == "core.client_ip.ClientAddressLogFilter"
    assert "%(client_ip)s" in django_settings.LOGGING["formatters"]["plain"]["format"]


def test_log_lines_written_while_serving_a_request_carry_its_address(settings):
    from django.http import HttpResponse

    from core.middleware import ClientAddressMiddleware

    settings.PROXY_COUNT = 1
    seen: list[str] = []

    def view(request):
        record = logging.LogRecord("enrollment", logging.INFO, __file__, 1, "enrolled", None, None)
        ClientAddressLogFilter().filter(record)
        seen.append(record.client_ip)
        return HttpResponse()

    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=ALICE)
    ClientAddressMiddleware(view)(request)
    assert seen == [ALICE]
    test_log_records_outside_a_request_get_a_placeholder()  # reset once the response is out
