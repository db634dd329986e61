from __future__ import annotations

from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.db import IntegrityError, transaction
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext_lazy as _

from accounts.models import Profile, User
from accounts.validators import normalise_codice_fiscale
from portal.dispatch import enqueue_on_commit


class AccountError(Exception):
    """A sign-up or profile change that cannot be done, with a message for the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def register_user(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    language: str = "it",
    next_url: str = "",
    news_opt_in: bool = False,
) -> User | None:
    """Sign-up: an inactive account that the e-mailed link activates.

    If the address already has an account, nothing is created and its owner gets an e-mail
    instead; the caller answers both cases alike, so the page reveals no account's existence.
    Returns the new user, or None when the address was taken.
    """
    from accounts.tasks import send_account_email_task

    email = User.objects.normalize_email(email).lower()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                language=language,
                news_opt_in=news_opt_in,
                is_active=False,
            )
            Profile.objects.create(user=user)
            enqueue_on_commit(send_account_email_task, "activate", user.pk, next_url)
    except IntegrityError:
        existing = User.objects.filter(email__iexact=email).first()
        if existing is not None:
            enqueue_on_commit(send_account_email_task, "exists", existing.pk, next_url)
        return None
    return user


def activate_user(*, uidb64: str, token: str) -> User:
    """Activate the account of a sign-up link; the link works once."""
    try:
        user = User.objects.get(pk=urlsafe_base64_decode(uidb64).decode())
    except (User.DoesNotExist, ValueError, UnicodeDecodeError) as exc:
        raise AccountError(str(_("Il link di conferma non è valido."))) from exc
    if user.is_active or not default_token_generator.check_token(user, token):
        raise AccountError(str(_("Il link di conferma non è valido o è già stato usato.")))
    user.is_active = True
    user.save(update_fields=["is_active"])
    return user


PROFILE_FIELDS = (
    "codice_fiscale",
    "profession",
    "profession_other",
    "organisation",
    "organisation_type",
    "role",
    "ambito",
    "phone",
    "ordine_regionale",
    "numero_iscrizione",
)


def update_profile(*, user: User, first_name: str, last_name: str, **fields: Any) -> Profile:
    """Save the participant's names and profile in one transaction."""
    fields["codice_fiscale"] = normalise_codice_fiscale(fields.get("codice_fiscale", ""))
    with transaction.atomic():
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        user.first_name, user.last_name = first_name.strip(), last_name.strip()
        user.save(update_fields=["first_name", "last_name"])
        changed = [name for name in PROFILE_FIELDS if name in fields]
        for name in changed:
            setattr(profile, name, fields[name])
        # The unique codice fiscale is left to the database, which also settles races.
        profile.full_clean(validate_constraints=False)
        try:
            with transaction.atomic():
                profile.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:
            raise AccountError(
                str(_("Questo codice fiscale è già associato a un altro account.")),
                field="codice_fiscale",
            ) from exc
    return profile


def get_or_create_profile(user: User) -> Profile:
    profile, _created = Profile.objects.get_or_create(user=user)
    return profile


def anonymise_user(*, user: User) -> None:
    """Erase what identifies a person, keeping the rows that other records need.

    Issued certificates keep their own snapshot of the holder (they must stay verifiable) and
    attendance rows stay attached to the now anonymous account.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        user.email = f"anonimo-{user.pk}@anonimizzato.invalid"
        user.first_name = ""
        user.last_name = ""
        user.is_active = False
        user.news_opt_in = False
        user.set_unusable_password()
        user.save(
            update_fields=[
                "email",
                "first_name",
                "last_name",
                "is_active",
                "news_opt_in",
                "password",
            ]
        )
        Profile.objects.filter(user=user).update(
            codice_fiscale="",
            profession_other="",
            organisation="",
            role="",
            ambito="",
            phone="",
            ordine_regionale="",
            numero_iscrizione="",
        )
