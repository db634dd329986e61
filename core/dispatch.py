"""The project's base Celery task: queued after commit; a broker outage never breaks the caller."""

from __future__ import annotations

import logging
from typing import Any

from celery.contrib.django.task import DjangoTask
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# One publish attempt. With `retry=False` kombu still lets redis-py reconnect with back-off,
# about 6 s per failed send; through kombu's own retry loop with no retries it fails at once.
FAIL_FAST = {"retry": True, "retry_policy": {"max_retries": 0}}


class PortalTask(DjangoTask):
    """Every task of the project (the Celery app's `task_cls`).

    Callers queue with `task.delay_on_commit(...)`, so nothing is sent for a rolled-back change.
    If the broker is unreachable, `delay`/`apply_async` log and return None instead of raising:
    the work is recorded in the database first (the e-mail outbox, the certificate gate) and a
    periodic task picks it up again, so the request still succeeds.
    """

    def apply_async(
        self, args: Any = None, kwargs: Any = None, **options: Any
    ) -> Any:  # AsyncResult, or None when the broker is down
        for key, value in FAIL_FAST.items():
            options.setdefault(key, value)
        try:
            return super().apply_async(args, kwargs, **options)
        except OperationalError:
            logger.warning(
                "broker unavailable: %s(%s) left for the periodic sweep", self.name, args
            )
            return None
