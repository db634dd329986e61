"""The scanning page and its endpoints: who may use them, what they answer, CSRF and the CSP."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from attendance.models import Attendance, Scan, Source
from attendance.scans import close_open_entries
from enrollment.tokens import make_check_in_token
from tests.factories import (
    CourseFactory,
    EnrollmentFactory,
    ParticipantFactory,
    SecretariatFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db

ROME = ZoneInfo(settings.TIME_ZONE)
DAY = dt.date(2031, 3, 12)


def at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(DAY.year, DAY.month, DAY.day, hour, minute, tzinfo=ROME)


@pytest.fixture(autouse=True)
def _mid_morning():
    with time_machine.travel(at(10, 30), tick=False):
        yield


@pytest.fixture
def session(db):
    course = CourseFactory(sessions=0, enrollment_deadline=DAY - dt.timedelta(days=10))
    SessionFactory(course=course, date=DAY - dt.timedelta(days=7))
    return SessionFactory(course=course, date=DAY, start=dt.time(9), end=dt.time(13))


@pytest.fixture
def person(session):
    return EnrollmentFactory(course=session.course)


@pytest.fixture
def staff_client(client):
    client.force_login(SecretariatFactory())
    return client


def post_scan(client, session, body):
    return client.post(
        reverse("attendance:check_in_scan", args=[session.pk]),
        data=json.dumps(body),
        content_type="application/json",
    )


def body(person, kind="entry", when=None, nonce=None):
    return {
        "token": make_check_in_token(person),
        "kind": kind,
        "nonce": str(nonce or uuid.uuid4()),
        "scanned_at": (when or at(9, 2)).astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
    }


def test_the_page_opens_on_todays_session_with_the_scanner(staff_client, session):
    response = staff_client.get(reverse("attendance:check_in", args=[session.course.slug]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'<option value="{session.pk}" selected>' in html
    assert reverse("attendance:check_in_scan", args=[session.pk]) in html
    assert "vendor/jsqr/jsQR.js" in html and "attendance/check_in.js" in html
    assert 'aria-live="assertive"' in html
    # The CSP allows no inline script: every script tag has a src.
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []


def test_a_scan_answers_with_the_name_and_the_live_count(staff_client, session, person):
    response = post_scan(staff_client, session, body(person))
    assert response.status_code == 200
    data = response.json()
    assert data["ok"] and data["kind"] == "entry" and data["inside"] == 1
    assert data["message"] == f"Entrata registrata: {person.user.get_full_name()}, alle 09:02."
    inside = staff_client.get(reverse("attendance:check_in_inside", args=[session.pk]))
    assert inside.json() == {"inside": 1}


def test_a_repeated_upload_is_reported_and_not_counted_twice(staff_client, session, person):
    nonce = uuid.uuid4()
    post_scan(staff_client, session, body(person, nonce=nonce))
    again = post_scan(staff_client, session, body(person, nonce=nonce)).json()
    assert again["ok"] and again["repeated"] and "non è stata contata due volte" in again["message"]
    assert Scan.objects.count() == 1


def test_a_refusal_is_a_422_with_the_reason(staff_client, session, person):
    response = post_scan(staff_client, session, body(person, kind="exit"))
    assert response.status_code == 422
    assert "non risulta in aula" in response.json()["message"]


@pytest.mark.parametrize(
    "bad",
    [
        {"kind": "entry"},
        {"token": "t", "kind": "entry", "nonce": "not-a-uuid", "scanned_at": "2031-03-12T08:00Z"},
        {"token": "t", "kind": "entry", "nonce": str(uuid.uuid4()), "scanned_at": "yesterday"},
        ["not", "an", "object"],
        "not an object either",
    ],
)
def test_a_malformed_request_is_a_400(staff_client, session, bad):
    response = post_scan(staff_client, session, bad)
    assert response.status_code == 400 and not response.json()["ok"]
    assert not Scan.objects.exists()


def test_a_body_that_is_not_json_is_a_400(staff_client, session):
    response = staff_client.post(
        reverse("attendance:check_in_scan", args=[session.pk]),
        data=b"\xff{token",
        content_type="application/json",
    )
    assert response.status_code == 400 and not response.json()["ok"]


def test_the_scan_endpoint_needs_the_csrf_token_the_page_gives(session, person):
    client = Client(enforce_csrf_checks=True)
    client.force_login(SecretariatFactory())
    url = reverse("attendance:check_in_scan", args=[session.pk])
    payload = json.dumps(body(person))
    assert client.post(url, payload, content_type="application/json").status_code == 403
    page = client.get(reverse("attendance:check_in", args=[session.course.slug])).content.decode()
    token = re.search(r'data-csrf="([^"]+)"', page).group(1)
    response = client.post(
        url, payload, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("who", ["participant", "owner"])
def test_participants_can_neither_scan_nor_read_the_count(client, session, person, who):
    client.force_login(person.user if who == "owner" else ParticipantFactory())
    assert post_scan(client, session, body(person)).status_code == 403
    assert client.get(reverse("attendance:check_in_inside", args=[session.pk])).status_code == 403
    assert not Scan.objects.exists()


def test_the_manual_fallback_finds_and_checks_in_by_hand(staff_client, session, person):
    page_url = reverse("attendance:check_in", args=[session.course.slug])
    cf = person.user.profile.codice_fiscale
    page = staff_client.get(page_url, {"session": session.pk, "q": cf}).content.decode()
    assert person.user.last_name in page
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
    form = {"enrollment": person.pk, "nonce": nonce, "kind": "entry", "q": cf}
    url = reverse("attendance:check_in_manual", args=[session.pk])
    response = staff_client.post(url, form, follow=True)
    assert "Entrata registrata" in response.content.decode()
    # The same form sent twice (a double click) is one entry.
    staff_client.post(url, form)
    assert Scan.objects.filter(source=Source.MANUAL).count() == 1
    with time_machine.travel(at(12), tick=False):
        page = staff_client.get(page_url, {"session": session.pk, "q": cf}).content.decode()
        nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)
        staff_client.post(url, {**form, "nonce": nonce, "kind": "exit"})
    attendance = Attendance.objects.get()
    assert attendance.minutes == 90 and attendance.source == Source.MANUAL


def test_the_page_lists_automatic_exits_and_confirms_them(staff_client, session, person):
    post_scan(staff_client, session, body(person, when=at(9)))
    close_open_entries(now=at(13))
    page_url = reverse("attendance:check_in", args=[session.course.slug])
    page = staff_client.get(page_url, {"session": session.pk}).content.decode()
    exit = Scan.objects.get(automatic=True)
    assert f'name="scan" value="{exit.pk}"' in page
    response = staff_client.post(
        reverse("attendance:check_in_confirm", args=[session.pk]), {"scan": exit.pk}, follow=True
    )
    assert "confermata" in response.content.decode()
    exit.refresh_from_db()
    assert exit.confirmed_at is not None
