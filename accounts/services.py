from __future__ import annotations

from importlib import import_module
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower, Trim
from django.utils import translation
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext
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


ANONYMISED_EMAIL_DOMAIN = "anonimizzato.invalid"


def anonymised_name(user_pk: int) -> str:
    """The name an erased participant goes by wherever their history is kept."""
    # Stored, not rendered: written in the portal's language, whoever asked for the erasure.
    with translation.override(settings.LANGUAGE_CODE):
        return gettext("Utente anonimizzato n. %(number)d") % {"number": user_pk}


def forget_login_records(*, email: str) -> int:
    """Delete django-axes' login attempts and access logs for an address, typed in any case."""
    wanted = email.strip().lower()
    deleted = 0
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        count, _per_model = (
            model.objects.annotate(login=Lower(Trim("username"))).filter(login=wanted).delete()
        )
        deleted += count
    return deleted


def end_sessions(*, user_pk: int) -> int:
    """Sign a person out everywhere: delete every stored session that belongs to them."""
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(store_class, DatabaseSessionStore):
        # Cookie or cache-only sessions cannot be listed. They still end at their next request,
        # because the session's auth hash follows the password, which erasure makes unusable.
        return 0
    # The session table has no user column: each session's data says whose it is.
    mine = [
        key
        for key, data in store_class.get_model_class()
        .objects.values_list("session_key", "session_data")
        .iterator()
        if store_class().decode(data).get(SESSION_KEY) == str(user_pk)
    ]
    for key in mine:
        store_class(session_key=key).delete()  # also drops the cached copy (cached_db)
    return len(mine)


def anonymise_user(*, user: User) -> None:
    """Erase what identifies a person, keeping the rows that other records need.

    The account stays, under a name that identifies nobody (`anonymised_name`), so that the
    registers, exports and certificate lists it appears in keep their rows. Issued certificates
    keep their own snapshot of the holder (they must stay verifiable). The person's login
    records and sessions are deleted.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old_email = user.email
        user.email = f"anonimo-{user.pk}@{ANONYMISED_EMAIL_DOMAIN}"
        user.first_name = ""
        # In the surname, where registers and exports look for it; with no first name, the
        # account can never earn a certificate in the name of nobody.
        user.last_name = anonymised_name(user.pk)
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
        forget_login_records(email=old_email)
        end_sessions(user_pk=user.pk)
