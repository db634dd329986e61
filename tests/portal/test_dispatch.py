"""One way to queue a task: `delay_on_commit` on the project's base task, which survives a
broker outage and fails fast."""

from __future__ import annotations

import logging
import time

import pytest

from core.dispatch import PortalTask
from enrollment.tasks import send_notification_task
from portal.celery import app
from tests.certificates.conftest import broker_down


def test_every_project_task_has_the_portal_base():
    ours = [task for name, task in app.tasks.items() if not name.startswith("celery.")]
    assert ours
    assert all(isinstance(task, PortalTask) for task in ours), [
        task.name for task in ours if not isinstance(task, PortalTask)
    ]


def test_a_send_while_the_broker_is_down_returns_none_and_fails_fast(caplog):
    with broker_down(), caplog.at_level(logging.WARNING, logger="core.dispatch"):
        started = time.monotonic()
        results = [send_notification_task.delay(0) for _ in range(3)]
        elapsed = time.monotonic() - started

    assert results == [None, None, None]
    # kombu's reconnect back-off used to cost about 6 s for each failed send.
    assert elapsed < 3
    assert caplog.text.count("broker unavailable") == 3


@pytest.mark.django_db
def test_delay_on_commit_waits_for_the_commit(django_capture_on_commit_callbacks, monkeypatch):
    sent: list[tuple] = []
    monkeypatch.setattr(
        PortalTask, "apply_async", lambda self, args=None, kwargs=None, **o: sent.append(args)
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        send_notification_task.delay_on_commit(7)
        assert sent == []

    assert len(callbacks) == 1
    assert sent == [(7,)]
