"""Queueing Celery tasks after commit without letting a broker outage break the request."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """Send `task` once the current transaction commits.

    If the broker is unreachable the request still succeeds: the work is recorded in the
    database (the e-mail outbox, the certificate gate) and a periodic task picks it up again.
    """

    def send() -> None:
        try:
            task.apply_async(args=args, retry=False)
        except OperationalError:
            logger.warning(
                "broker unavailable: %s(%s) left for the periodic retry", task.name, args
            )

    transaction.on_commit(send)
