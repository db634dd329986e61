"""One e-mail builder: the recipient's language, text and HTML, replies to the secretariat."""

from __future__ import annotations

import pytest

from accounts.tasks import send_account_email_task
from core.mail import build_email
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def test_the_signup_e_mail_replies_to_the_secretariat_like_every_other(settings, mailoutbox):
    # It was the one copy of the builder without a reply-to: replies went to the no-reply sender.
    user = ParticipantFactory(is_active=False, last_login=None)

    send_account_email_task("activate", user.pk)

    (message,) = mailoutbox
    assert message.reply_to == [settings.PORTAL_SECRETARIAT_EMAIL]
    assert message.alternatives[0][1] == "text/html"


def test_templates_render_in_the_recipients_language(settings):
    user = ParticipantFactory(language="en")

    message = build_email(
        to=user.email,
        subject="x",
        template="certificates/email/ready",
        context={"user": user, "hours": "", "issued_on": ""},
        language=user.language,
    )

    assert "Organising secretariat" in message.body
    assert settings.PORTAL_SECRETARIAT_EMAIL in message.alternatives[0][0]
    assert message.to == [user.email]
