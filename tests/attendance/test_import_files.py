"""Uploaded attendance files hold personal data: they never outlive their preview for long."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import time

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from attendance.models import Attendance
from attendance.services import IMPORT_DIR, IMPORT_MAX_AGE
from attendance.tasks import purge_stale_imports_task
from portal.celery import app
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def secretariat_client(secretariat):
    client = Client()
    client.force_login(secretariat)
    return client


def _stored() -> list[str]:
    if not default_storage.exists(IMPORT_DIR):
        return []
    return default_storage.listdir(IMPORT_DIR)[1]


def _upload(client, course, session) -> tuple[str, str]:
    EnrollmentFactory(course=course, user__email="anna@example.org")
    url = reverse("attendance:import", kwargs={"slug": course.slug})
    content = f"email,date,minutes\nanna@example.org,{session.date},60\n".encode()
    upload = io.BytesIO(content)
    upload.name = "presenze.csv"
    assert client.post(url, {"action": "upload", "file": upload}).status_code == 302
    assert len(_stored()) == 1
    return url, hashlib.sha256(content).hexdigest()


def test_confirming_an_import_deletes_the_stored_file(secretariat_client, course, sessions):
    url, sha = _upload(secretariat_client, course, sessions[0])

    secretariat_client.post(url, {"action": "confirm", "sha256": sha})

    assert Attendance.objects.get().minutes == 60
    assert _stored() == []


def test_discarding_an_import_deletes_the_stored_file(secretariat_client, course, sessions):
    url, _ = _upload(secretariat_client, course, sessions[0])

    secretariat_client.post(url, {"action": "cancel"})

    assert _stored() == []
    assert not Attendance.objects.exists()


def test_a_confirmation_refused_as_stale_deletes_the_stored_file(
    secretariat_client, course, sessions
):
    # The page then says the file is no longer available and asks for it again.
    url, _ = _upload(secretariat_client, course, sessions[0])

    response = secretariat_client.post(url, {"action": "confirm", "sha256": "0" * 64}, follow=True)

    assert "non è più disponibile" in response.content.decode()
    assert _stored() == []
    assert not Attendance.objects.exists()


def _store(name: str, age: dt.timedelta) -> str:
    path = default_storage.save(f"{IMPORT_DIR}/{name}", ContentFile(b"email\nanna@example.org\n"))
    then = time.time() - age.total_seconds()
    os.utime(default_storage.path(path), (then, then))
    return path


def test_the_periodic_task_deletes_import_files_left_for_too_long():
    # given files of abandoned previews, one just past the limit and one just under it
    stale = _store("stale.csv", IMPORT_MAX_AGE + dt.timedelta(minutes=1))
    recent = _store("recent.csv", IMPORT_MAX_AGE - dt.timedelta(minutes=1))

    # when the periodic task runs
    deleted = purge_stale_imports_task()

    # then only the stale one is gone
    assert deleted == 1
    assert not default_storage.exists(stale)
    assert default_storage.exists(recent)


def test_the_periodic_task_with_no_import_files_does_nothing():
    assert purge_stale_imports_task() == 0


def test_the_periodic_task_is_scheduled_so_no_file_lives_more_than_24_hours():
    entry = next(
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "attendance.tasks.purge_stale_imports_task"
    )
    assert entry["task"] in app.tasks
    assert IMPORT_MAX_AGE + dt.timedelta(seconds=entry["schedule"]) <= dt.timedelta(hours=24)
