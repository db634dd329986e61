from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlencode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from accounts.models import User
from core.mail import build_email, recipient_language
from portal.celery import app


@app.task(acks_late=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_account_email_task(kind: str, user_id: int, next_url: str = "") -> None:
    """The sign-up e-mail: an activation link, or a note that the address is registered."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    if kind == "activate" and user.is_active:
        return  # already activated: a second delivery sends nothing
    with recipient_language(user.language):
        if kind == "activate":
            path = reverse(
                "accounts:activate",
                args=[
                    urlsafe_base64_encode(force_bytes(user.pk)),
                    default_token_generator.make_token(user),
                ],
            )
            subject = _("Conferma il tuo indirizzo e-mail – %(portal)s")
        else:
            path = reverse("accounts:login")
            subject = _("Il tuo indirizzo è già registrato – %(portal)s")
        query = f"?{urlencode({'next': next_url})}" if next_url else ""
        message = build_email(
            to=user.email,
            subject=subject % {"portal": settings.PORTAL_NAME},
            template="accounts/email/signup",
            context={
                "user": user,
                "kind": kind,
                "link": f"{settings.SITE_URL}{path}{query}",
                "reset_link": settings.SITE_URL + reverse("accounts:password_reset"),
            },
            language=user.language,
        )
    message.send()
