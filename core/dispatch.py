"""Queueing Celery tasks after commit without letting a broker outage break the request."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def send_task(task: Task, *args: Any) -> bool:
    """Send `task` now; False, after logging, if the broker is unreachable.

    For callers that record the work in the database first, so a periodic task can pick it up
    again; they may tell the user that it will happen later.
    """
    try:
        task.apply_async(args=args, retry=False)
    except OperationalError:
        logger.warning("broker unavailable: %s(%s) left for the periodic retry", task.name, args)
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """Send `task` once the current transaction commits.

    If the broker is unreachable the request still succeeds: the work is recorded in the
    database (the e-mail outbox, the certificate gate) and a periodic task picks it up again.
    """
    transaction.on_commit(lambda: send_task(task, *args))
