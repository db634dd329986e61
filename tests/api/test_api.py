"""The REST API for the organisations' systems (issue 16 §2)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from api.models import ApiKey
from api.services import create_api_key, revoke_api_keys
from attendance.models import Attendance, AttendanceChange, Source
from attendance.services import record_attendance
from certificates.services import issue_certificate
from tests.factories import CourseFactory, EnrollmentFactory, ParticipantFactory, SessionFactory
from tests.questionnaire.factories import CompletionFactory

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"
ORG_A, ORG_B = "Comune di Milano", "ATS Città Metropolitana"


def _participant(organisation: str):
    user = ParticipantFactory()
    user.profile.organisation = organisation
    user.profile.save(update_fields=["organisation"])
    return user


def _auth(raw_key: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Api-Key {raw_key}"}


@pytest.fixture
def world():
    """A held course with one participant of each organisation, attended and certified."""
    course = CourseFactory(sessions=0)
    today = timezone.localdate()
    for days_ago in (21, 14, 7):
        SessionFactory(course=course, date=today - dt.timedelta(days=days_ago))
    enrollments = {}
    certificates = {}
    for org in (ORG_A, ORG_B):
        enrollment = EnrollmentFactory(user=_participant(org), course=course)
        for session in course.sessions.all():
            record_attendance(
                enrollment=enrollment,
                session=session,
                minutes=session.minutes,
                recorded_by=None,
                source=Source.ADMIN,
            )
        CompletionFactory(enrollment=enrollment)
        certificates[org], _created = issue_certificate(enrollment=enrollment)
        enrollments[org] = enrollment
    return course, enrollments, certificates


@pytest.fixture
def key_a():
    # The organisation is matched whatever its case.
    return create_api_key(name="Gestionale A", organisation="comune di MILANO", scope="read")


@pytest.fixture
def write_key_a():
    return create_api_key(name="Gestionale A (scrittura)", organisation=ORG_A, scope="write")


# --- Schema and docs -----------------------------------------------------------------------------


def test_the_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml"))
    assert "/api/v1/org/courses/{slug}/attendance/" in (tmp_path / "s.yaml").read_text()


def test_the_docs_page_uses_vendored_assets_and_no_inline_script(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" in html
    assert "<script>" not in html
    assert "googleapis" not in html


# --- Public --------------------------------------------------------------------------------------


def test_the_catalogue_lists_published_courses_with_seats_from_the_selectors(client):
    course = CourseFactory(capacity=2)
    EnrollmentFactory(course=course)
    CourseFactory(is_published=False)
    response = client.get("/api/v1/courses/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["code"] == course.code
    assert row["seats"] == {"capacity": 2, "taken": 1, "left": 1, "state": "open"}
    assert row["first_date"] == str(course.sessions.order_by("date").first().date)


def test_the_catalogue_is_filtered_by_date_range(client):
    soon = CourseFactory(sessions=0)
    SessionFactory(course=soon, date=dt.date(2031, 3, 10))
    later = CourseFactory(sessions=0)
    SessionFactory(course=later, date=dt.date(2031, 6, 10))
    codes = lambda url: [r["code"] for r in client.get(url).json()["results"]]  # noqa: E731
    assert codes("/api/v1/courses/?from=2031-03-01&to=2031-03-31") == [soon.code]
    assert codes("/api/v1/courses/?from=2031-04-01") == [later.code]


def test_a_bad_date_filter_is_a_problem_document(client):
    response = client.get("/api/v1/courses/?from=31/03/2031")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 400
    assert "from" in response.json()["errors"]


def test_the_catalogue_is_paginated_by_50(client):
    for _ in range(51):
        CourseFactory(sessions=0)
    body = client.get("/api/v1/courses/").json()
    assert body["count"] == 51
    assert len(body["results"]) == 50
    assert body["next"] is not None


def test_a_course_and_its_sessions(client):
    course = CourseFactory()
    assert client.get(f"/api/v1/courses/{course.slug}/").json()["code"] == course.code
    sessions = client.get(f"/api/v1/courses/{course.slug}/sessions/").json()
    assert [s["id"] for s in sessions] == list(
        course.sessions.order_by("date", "start").values_list("pk", flat=True)
    )


def test_an_unpublished_course_is_not_found_as_a_problem(client):
    course = CourseFactory(is_published=False)
    response = client.get(f"/api/v1/courses/{course.slug}/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert set(response.json()) >= {"type", "title", "status", "detail"}


# --- Organisation keys ---------------------------------------------------------------------------


def test_the_key_is_stored_only_as_its_sha256(key_a):
    import hashlib

    key, raw = key_a
    key.refresh_from_db()
    assert key.hashed_key == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {key.hashed_key, key.prefix}
    assert raw.startswith(key.prefix)


@pytest.mark.parametrize("path", ["enrollments", "attendance", "certificates"])
def test_without_a_key_the_organisation_endpoints_answer_401_problem(client, world, path):
    course, _e, _c = world
    response = client.get(f"/api/v1/org/courses/{course.slug}/{path}/")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == "Api-Key"


def test_a_wrong_or_revoked_key_is_401(client, world, key_a):
    course, _e, _c = world
    key, raw = key_a
    url = f"/api/v1/org/courses/{course.slug}/enrollments/"
    assert client.get(url, **_auth(raw)).status_code == 200
    assert client.get(url, **_auth(raw + "x")).status_code == 401
    revoke_api_keys(key_ids=[key.pk])
    response = client.get(url, **_auth(raw))
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM


def test_a_key_sees_only_its_organisations_enrolments(client, world, key_a):
    course, enrollments, _c = world
    _key, raw = key_a
    body = client.get(f"/api/v1/org/courses/{course.slug}/enrollments/", **_auth(raw)).json()
    assert [r["id"] for r in body["results"]] == [enrollments[ORG_A].pk]
    assert body["results"][0]["organisation"] == ORG_A


def test_a_key_sees_only_its_organisations_attendance(client, world, key_a):
    course, enrollments, _c = world
    _key, raw = key_a
    body = client.get(f"/api/v1/org/courses/{course.slug}/attendance/", **_auth(raw)).json()
    assert body["count"] == 3
    assert {r["enrollment"] for r in body["results"]} == {enrollments[ORG_A].pk}


def test_a_key_lists_and_downloads_only_its_organisations_certificates(client, world, key_a):
    course, _e, certificates = world
    key, raw = key_a
    body = client.get(f"/api/v1/org/courses/{course.slug}/certificates/", **_auth(raw)).json()
    assert [r["token"] for r in body["results"]] == [str(certificates[ORG_A].token)]
    own = client.get(
        f"/api/v1/org/certificates/{certificates[ORG_A].token}/download/", **_auth(raw)
    )
    assert own.status_code == 200
    assert b"".join(own.streaming_content) == certificates[ORG_A].file.open("rb").read()
    other = client.get(
        f"/api/v1/org/certificates/{certificates[ORG_B].token}/download/", **_auth(raw)
    )
    assert other.status_code == 404
    assert other["Content-Type"] == PROBLEM
    key.refresh_from_db()
    assert key.last_used_at is not None


# --- Attendance writing --------------------------------------------------------------------------


def _attendance_post(client, course, raw, **data):
    return client.post(
        f"/api/v1/org/courses/{course.slug}/attendance/",
        data=data,
        content_type="application/json",
        **_auth(raw),
    )


def test_a_read_key_cannot_write_attendance(client, world, key_a):
    course, enrollments, _c = world
    _key, raw = key_a
    session = course.sessions.first()
    response = _attendance_post(
        client, course, raw, enrollment=enrollments[ORG_A].pk, session=session.pk, minutes=60
    )
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert Attendance.objects.get(enrollment=enrollments[ORG_A], session=session).minutes == 240


def test_a_write_key_records_attendance_through_the_audited_path(client, world, write_key_a):
    course, enrollments, _c = world
    _key, raw = write_key_a
    session = course.sessions.first()
    response = _attendance_post(
        client, course, raw, enrollment=enrollments[ORG_A].pk, session=session.pk, minutes=60
    )
    assert response.status_code == 201, response.json()
    attendance = Attendance.objects.get(enrollment=enrollments[ORG_A], session=session)
    assert attendance.minutes == 60
    assert attendance.source == Source.API
    change = AttendanceChange.objects.filter(attendance=attendance).latest("changed_at")
    assert change.source == Source.API
    assert change.changed_by is None
    assert "Gestionale A (scrittura)" in change.source_detail
    assert (change.old_minutes, change.new_minutes) == (240, 60)


def test_a_write_key_cannot_write_another_organisations_attendance(client, world, write_key_a):
    course, enrollments, _c = world
    _key, raw = write_key_a
    session = course.sessions.first()
    response = _attendance_post(
        client, course, raw, enrollment=enrollments[ORG_B].pk, session=session.pk, minutes=0
    )
    assert response.status_code == 404
    assert Attendance.objects.get(enrollment=enrollments[ORG_B], session=session).minutes == 240


def test_bad_attendance_is_a_problem_and_writes_nothing(client, world, write_key_a):
    course, enrollments, _c = world
    _key, raw = write_key_a
    session = course.sessions.first()
    before = AttendanceChange.objects.count()
    response = _attendance_post(
        client, course, raw, enrollment=enrollments[ORG_A].pk, session=session.pk, minutes=9999
    )
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert AttendanceChange.objects.count() == before
    missing = _attendance_post(client, course, raw, enrollment=enrollments[ORG_A].pk, session=1)
    assert missing.status_code == 400


# --- Throttling ----------------------------------------------------------------------------------


def test_each_key_is_throttled_at_the_configured_rate(client, world, key_a, settings):
    settings.API_KEY_RATE = "2/minute"
    course, _e, _c = world
    _key, raw = key_a
    _other, other_raw = create_api_key(name="B", organisation=ORG_B, scope="read")
    url = f"/api/v1/org/courses/{course.slug}/enrollments/"
    assert [client.get(url, **_auth(raw)).status_code for _ in range(2)] == [200, 200]
    response = client.get(url, **_auth(raw))
    assert response.status_code == 429
    assert response["Content-Type"] == PROBLEM
    assert response.json()["status"] == 429
    # Another key has its own allowance.
    assert client.get(url, **_auth(other_raw)).status_code == 200


def test_apikey_scope_is_constrained():
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        ApiKey.objects.create(name="x", organisation="y", scope="admin", hashed_key="z")


# --- Signed-in participant -----------------------------------------------------------------------


def test_a_participant_sees_only_their_own_enrolments_and_certificates(client, world):
    course, enrollments, certificates = world
    client.force_login(enrollments[ORG_A].user)
    mine = client.get("/api/v1/me/enrollments/").json()
    assert [r["id"] for r in mine["results"]] == [enrollments[ORG_A].pk]
    assert mine["results"][0]["course"] == course.slug
    certs = client.get("/api/v1/me/certificates/").json()
    assert [r["token"] for r in certs["results"]] == [str(certificates[ORG_A].token)]


def test_the_participant_endpoints_refuse_anonymous_as_problem(client):
    response = client.get("/api/v1/me/enrollments/")
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM


def test_an_api_key_does_not_open_the_participant_endpoints(client, key_a):
    _key, raw = key_a
    response = client.get("/api/v1/me/certificates/", **_auth(raw))
    assert response.status_code == 403


def test_attendance_is_filtered_by_session_date(client, world, key_a):
    course, _e, _c = world
    _key, raw = key_a
    last = course.sessions.order_by("date").last()
    url = f"/api/v1/org/courses/{course.slug}/attendance/?from={last.date.isoformat()}"
    body = client.get(url, **_auth(raw)).json()
    assert [r["session"] for r in body["results"]] == [last.pk]


def test_only_the_docs_page_lets_redoc_start_its_search_worker(client):
    # Redoc builds its search worker from a blob: URL; the rest of the site keeps the strict CSP.
    assert "worker-src 'self' blob:" in client.get("/api/docs/")["Content-Security-Policy"]
    assert "blob:" not in client.get("/")["Content-Security-Policy"]
