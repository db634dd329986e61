"""The one way to build an e-mail to a person: in their language, text and HTML, replies to the
secretariat."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def recipient_language(language: str | None) -> translation.override:
    """Translate what is built inside (subject, context values) as the recipient reads it."""
    return translation.override(language or settings.LANGUAGE_CODE)


def build_email(
    *,
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    language: str | None,
    reply_to: str | None = None,
) -> EmailMultiAlternatives:
    """`template`.txt as the body and `template`.html as its alternative, rendered in `language`.

    Replies go to the secretariat unless `reply_to` says otherwise: the sender is a no-reply
    address. The templates also get the organiser, the portal's name and the secretariat's
    address.
    """
    context = {
        "organiser": settings.PORTAL_ORGANISER,
        "portal": settings.PORTAL_NAME,
        "secretariat_email": settings.PORTAL_SECRETARIAT_EMAIL,
        **context,
    }
    with recipient_language(language):
        text = render_to_string(f"{template}.txt", context)
        html = render_to_string(f"{template}.html", context)
        subject = str(subject)
    message = EmailMultiAlternatives(
        subject=subject,
        body=text,
        to=[to],
        reply_to=[reply_to or settings.PORTAL_SECRETARIAT_EMAIL],
    )
    message.attach_alternative(html, "text/html")
    return message
