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

from accounts.models import PROFILE_FIELDS, Profile, User
from accounts.validators import normalise_codice_fiscale


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

    If the address already has an account, nothing is created: a never-activated one takes the
    new sign-up's details and gets a fresh link, an active one gets a note by e-mail. The caller
    answers all cases alike, so the page reveals no account's existence. Returns the new user, or
    None when the address was taken.
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
            send_account_email_task.delay_on_commit("activate", user.pk, next_url)
    except IntegrityError:
        pass
    else:
        return user
    with transaction.atomic():
        existing = User.objects.select_for_update().filter(email__iexact=email).first()
        if existing is None:
            return None
        if _never_activated(existing):
            # Whoever signed up first (perhaps not the mailbox's owner) must not keep the address:
            # the new password retires every link sent so far, since the token generator hashes
            # it, and the activation page makes the owner choose the password anyway.
            existing.set_password(password)
            existing.first_name, existing.last_name = first_name.strip(), last_name.strip()
            existing.language, existing.news_opt_in = language, news_opt_in
            existing.save(
                update_fields=["password", "first_name", "last_name", "language", "news_opt_in"]
            )
            send_account_email_task.delay_on_commit("activate", existing.pk, next_url)
        else:
            send_account_email_task.delay_on_commit("exists", existing.pk, next_url)
    return None


def _never_activated(user: User) -> bool:
    # Activation signs the person in, so an account switched off after use has a last login.
    return not user.is_active and user.last_login is None


def send_activation_again(*, email: str) -> bool:
    """A password reset asked for an account never activated: send its activation link instead.

    Returns True when a link was sent; the caller answers alike either way.
    """
    from accounts.tasks import send_account_email_task

    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None or not _never_activated(user):
        return False
    send_account_email_task.delay_on_commit("activate", user.pk, "")
    return True


def get_user_to_activate(*, uidb64: str, token: str, lock: bool = False) -> User:
    """The never-activated account an activation link is for; AccountError if the link is bad."""
    users = User.objects.select_for_update() if lock else User.objects.all()
    try:
        user = users.get(pk=urlsafe_base64_decode(uidb64).decode())
    except (User.DoesNotExist, ValueError, UnicodeDecodeError) as exc:
        raise AccountError(str(_("Il link di conferma non è valido."))) from exc
    if not _never_activated(user) or not default_token_generator.check_token(user, token):
        raise AccountError(str(_("Il link di conferma non è valido o è già stato usato.")))
    return user


def activate_user(*, uidb64: str, token: str, password: str) -> User:
    """Activate the account of a sign-up link with the password chosen on the activation page.

    Whatever password the sign-up set is replaced, so someone who registered another person's
    address cannot sign in once its owner has activated it. The link works once.
    """
    with transaction.atomic():
        # Locked, so that of two clicks on the button only the first finds the link valid.
        user = get_user_to_activate(uidb64=uidb64, token=token, lock=True)
        user.set_password(password)
        user.is_active = True
        user.save(update_fields=["password", "is_active"])
    return user


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
