from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.models import Profile, User
from accounts.validators import normalise_codice_fiscale


class AccountError(Exception):
    """A sign-up or profile change that cannot be done, with a message for the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


def register_user(
    *, email: str, password: str, first_name: str, last_name: str, language: str = "it"
) -> User:
    """Create a participant account with an empty profile."""
    email = User.objects.normalize_email(email).lower()
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
                language=language,
            )
            Profile.objects.create(user=user)
    except IntegrityError as exc:
        raise AccountError(
            str(_("Esiste già un account con questo indirizzo e-mail.")), field="email"
        ) from exc
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
