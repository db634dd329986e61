from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.test import override_settings

from tests.enrollment.helpers import open_course
from tests.factories import ParticipantFactory

DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:6399/0",  # nothing listens there
        "OPTIONS": {
            "IGNORE_EXCEPTIONS": True,
            "SOCKET_CONNECT_TIMEOUT": 0.2,
            "SOCKET_TIMEOUT": 0.2,
        },
    },
    # Local to the process: base.html's menu and footer (portal.settings).
    "fragments": django_settings.CACHES["fragments"],
}


@pytest.mark.django_db
def test_pages_and_sessions_work_while_redis_is_down(client):
    course = open_course()
    with override_settings(
        CACHES=DOWN, SESSION_ENGINE="django.contrib.sessions.backends.cached_db"
    ):
        caches["default"]  # built from the overridden settings
        assert client.get("/").status_code == 200
        assert client.get(course.get_absolute_url()).status_code == 200
        user = ParticipantFactory()
        client.force_login(user)
        response = client.get("/my/enrollments/")
        assert response.status_code == 200


@pytest.mark.postgres
@pytest.mark.django_db
def test_real_redis_cache_round_trip():
    """With the REDIS_URL of CI, the cache backend really talks to Redis."""
    import os

    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.skip("REDIS_URL not set")
    with override_settings(
        CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url}}
    ):
        cache = caches["default"]
        cache.set("probe", 42, 5)
        assert cache.get("probe") == 42
        cache.delete("probe")


@pytest.mark.django_db
def test_rate_limited_forms_still_answer_while_redis_is_down(client, settings):
    # The rate limits count in the cache: with Redis down they let requests through (as the
    # hand-written tolerant cache did) rather than refusing every sign-up and enrolment.
    assert settings.RATELIMIT_FAIL_OPEN
    with override_settings(CACHES=DOWN):
        caches["default"]
        response = client.post("/accounts/signup/", {"email": "x"})
    assert response.status_code == 200
