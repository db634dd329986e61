from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.tokens import default_token_generator
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower, Trim
from django.utils import timezone, translation
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import PROFILE_FIELDS, OidcIdentity, Profile, User
from accounts.validators import normalise_codice_fiscale, validate_codice_fiscale


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
    """Save the participant's names and profile in one transaction.

    What SPID or CIE vouched for (`Profile.verified_fields`) keeps its value, whatever is sent.
    """
    fields["codice_fiscale"] = normalise_codice_fiscale(fields.get("codice_fiscale", ""))
    with transaction.atomic():
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        verified = set(profile.verified_fields)
        if "first_name" in verified:
            first_name = user.first_name
        if "last_name" in verified:
            last_name = user.last_name
        if "codice_fiscale" in verified:
            fields["codice_fiscale"] = profile.codice_fiscale
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
        Profile.objects.filter(user=user).update(
            verified_fields=[], verified_at=None, verified_by=""
        )
        OidcIdentity.objects.filter(user=user).delete()
        forget_login_records(email=old_email)
        end_sessions(user_pk=user.pk)


# --- SPID and CIE through the OpenID Connect provider (accounts.oidc) ---------------------------

# SPID sends the fiscal number as "TINIT-<codice fiscale>" (ETSI natural person identifier).
FISCAL_NUMBER_CLAIMS = ("fiscal_number", "https://attributes.eid.gov.it/fiscal_number")
_FISCAL_NUMBER_PREFIX = "TINIT-"


@dataclass(frozen=True)
class OidcPerson:
    """The person an ID token describes, in the profile's terms."""

    subject: str
    codice_fiscale: str
    first_name: str
    last_name: str
    email: str

    def as_session(self) -> dict[str, str]:
        return {
            "subject": self.subject,
            "codice_fiscale": self.codice_fiscale,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
        }


def person_from_claims(claims: Mapping[str, Any]) -> OidcPerson:
    """Map the ID token's claims to the profile; AccountError without a valid codice fiscale."""
    raw = next((str(claims[name]) for name in FISCAL_NUMBER_CLAIMS if claims.get(name)), "")
    if raw.upper().startswith(_FISCAL_NUMBER_PREFIX):
        raw = raw[len(_FISCAL_NUMBER_PREFIX) :]
    codice_fiscale = normalise_codice_fiscale(raw)
    try:
        if not codice_fiscale:
            raise ValidationError("missing")
        validate_codice_fiscale(codice_fiscale)
    except ValidationError as exc:
        raise AccountError(
            str(
                _(
                    "Il servizio di identità non ha inviato un codice fiscale personale valido: "
                    "non possiamo farti accedere con questa identità."
                )
            )
        ) from exc
    subject = str(claims.get("sub") or "")
    if not subject:
        raise AccountError(str(_("Il servizio di identità non ha indicato chi sei.")))
    email = User.objects.normalize_email(str(claims.get("email") or "").strip()).lower()
    return OidcPerson(
        subject=subject,
        codice_fiscale=codice_fiscale,
        first_name=str(claims.get("given_name") or "").strip()[:150],
        last_name=str(claims.get("family_name") or "").strip()[:150],
        email=email,
    )


@dataclass(frozen=True)
class OidcSignIn:
    """The outcome of a return from the provider: sign `user` in, or confirm `link_to` first."""

    user: User | None = None
    link_to: User | None = None
    created: bool = False


def _record_verified(*, user: User, profile: Profile, person: OidcPerson, method: str) -> None:
    """Write what the provider vouched for onto the account and profile (locked by the caller)."""
    verified = ["codice_fiscale"]
    user_fields = []
    if person.first_name:
        user.first_name = person.first_name
        verified.append("first_name")
        user_fields.append("first_name")
    if person.last_name:
        user.last_name = person.last_name
        verified.append("last_name")
        user_fields.append("last_name")
    if person.email and person.email == user.email.lower():
        verified.append("email")
    if user_fields:
        user.save(update_fields=user_fields)
    profile.codice_fiscale = person.codice_fiscale
    profile.verified_fields = verified
    profile.verified_at = timezone.now()
    profile.verified_by = method
    profile.save(
        update_fields=[
            "codice_fiscale",
            "verified_fields",
            "verified_at",
            "verified_by",
            "updated_at",
        ]
    )


def _add_identity(*, user: User, issuer: str, person: OidcPerson) -> None:
    """Record that this provider's subject is `user`, signing in now."""
    OidcIdentity.objects.create(
        user=user, issuer=issuer, subject=person.subject, last_login_at=timezone.now()
    )


_INACTIVE_ERROR = _("L'account collegato a questa identità è disattivato. Contatta la segreteria.")
_EMAIL_TAKEN_ERROR = _(
    "L'indirizzo e-mail inviato dal servizio di identità appartiene a un account intestato a un "
    "altro codice fiscale: non possiamo collegarlo. Contatta la segreteria."
)
_IDENTITY_CHANGED_ERROR = _(
    "Il codice fiscale inviato dal servizio di identità non corrisponde a quello dell'account "
    "collegato. Contatta la segreteria."
)
_NO_EMAIL_ERROR = _(
    "Il servizio di identità non ha inviato un indirizzo e-mail, che serve per creare l'account. "
    "Aggiungi un indirizzo e-mail alla tua identità digitale oppure registrati con e-mail e "
    "password."
)


def sign_in_with_oidc(*, issuer: str, method: str, person: OidcPerson) -> OidcSignIn:
    """Find or create the account of a person who signed in with SPID or CIE.

    - A known identity (issuer, subject) signs into its account; the names are refreshed.
    - An account whose codice fiscale this provider already vouched for (through another
      identity: SPID, then CIE) gets this identity too.
    - Any other account with the same codice fiscale, or with the same e-mail address and no
      other codice fiscale, is never taken over silently: its password must be confirmed once
      (`link_oidc_identity`). An account registered but never activated is not anyone's yet:
      it becomes this person's, as a new sign-up would make it.
    - Otherwise a new active account is created, with the verified data filled in.
    """
    with transaction.atomic(durable=True):
        identity = (
            OidcIdentity.objects.select_for_update()
            .select_related("user")
            .filter(issuer=issuer, subject=person.subject)
            .first()
        )
        if identity is not None:
            user = identity.user
            if not user.is_active:
                raise AccountError(str(_INACTIVE_ERROR))
            profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
            if profile.codice_fiscale and profile.codice_fiscale != person.codice_fiscale:
                # The provider now says another person: refuse rather than guess.
                raise AccountError(str(_IDENTITY_CHANGED_ERROR))
            _record_verified(user=user, profile=profile, person=person, method=method)
            identity.last_login_at = timezone.now()
            identity.save(update_fields=["last_login_at"])
            return OidcSignIn(user=user)
        same_cf = (
            Profile.objects.select_for_update()
            .select_related("user")
            .filter(codice_fiscale=person.codice_fiscale)
            .first()
        )
        if same_cf is not None:
            user = same_cf.user
            if not user.is_active:
                raise AccountError(str(_INACTIVE_ERROR))
            if (
                "codice_fiscale" in same_cf.verified_fields
                and OidcIdentity.objects.filter(user=user, issuer=issuer).exists()
            ):
                # The same provider already vouched for this codice fiscale on this account
                # (SPID first, now CIE, which the proxy names with another subject): the same
                # person, who may have no password to confirm.
                _record_verified(user=user, profile=same_cf, person=person, method=method)
                _add_identity(user=user, issuer=issuer, person=person)
                return OidcSignIn(user=user)
            return OidcSignIn(link_to=user)
        if not person.email:
            raise AccountError(str(_NO_EMAIL_ERROR))
        same_email = User.objects.select_for_update().filter(email__iexact=person.email).first()
        if same_email is not None and not _never_activated(same_email):
            other_cf = (
                Profile.objects.filter(user=same_email)
                .values_list("codice_fiscale", flat=True)
                .first()
            )
            if other_cf:
                raise AccountError(str(_EMAIL_TAKEN_ERROR))
            if not same_email.is_active:
                raise AccountError(str(_INACTIVE_ERROR))
            return OidcSignIn(link_to=same_email)
        created = same_email is None
        try:
            with transaction.atomic():
                if same_email is None:
                    user = User.objects.create_user(
                        email=person.email, password=None, is_active=True
                    )
                else:
                    # Whoever registered the address without confirming it never had it; the
                    # password they chose stops working.
                    user = same_email
                    user.is_active = True
                    user.set_unusable_password()
                    user.save(update_fields=["is_active", "password"])
                profile, _created = Profile.objects.get_or_create(user=user)
                _record_verified(user=user, profile=profile, person=person, method=method)
                _add_identity(user=user, issuer=issuer, person=person)
        except IntegrityError as exc:
            # The same person signing in twice at once: the other request created it.
            raise AccountError(str(_("Accesso già in corso: riprova tra un momento."))) from exc
    return OidcSignIn(user=user, created=created)


def link_oidc_identity(*, user: User, issuer: str, method: str, person: OidcPerson) -> User:
    """Link a SPID/CIE identity to an existing account whose password was just confirmed."""
    with transaction.atomic(durable=True):
        user = User.objects.select_for_update().get(pk=user.pk)
        if not user.is_active:
            raise AccountError(str(_INACTIVE_ERROR))
        existing = OidcIdentity.objects.filter(issuer=issuer, subject=person.subject).first()
        if existing is not None and existing.user_id != user.pk:
            raise AccountError(
                str(
                    _("Questa identità è già collegata a un altro account. Contatta la segreteria.")
                )
            )
        profile, _created = Profile.objects.select_for_update().get_or_create(user=user)
        if profile.codice_fiscale and profile.codice_fiscale != person.codice_fiscale:
            raise AccountError(str(_EMAIL_TAKEN_ERROR))
        try:
            with transaction.atomic():
                _record_verified(user=user, profile=profile, person=person, method=method)
                if existing is None:
                    _add_identity(user=user, issuer=issuer, person=person)
        except IntegrityError as exc:
            raise AccountError(
                str(_("Questo codice fiscale è già associato a un altro account."))
            ) from exc
    return user
