"""An e-mail backend for the worker-restart test: one file per message, written slowly.

It marks the start of each send, so the test can kill the worker while a message is in flight.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class SlowFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        directory = Path(os.environ["MAIL_DIR"])
        for message in email_messages:
            (directory / f"sending-{uuid.uuid4().hex}").touch()
            time.sleep(float(os.environ.get("SLOW_EMAIL_SECONDS", "0")))
            (directory / f"sent-{uuid.uuid4().hex}.eml").write_bytes(message.message().as_bytes())
        return len(email_messages)
