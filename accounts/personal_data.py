"""This app's part of a person's data: privacy composes every app's into one export."""

from __future__ import annotations

from typing import Any

from django.db import models

from accounts.models import PROFILE_FIELDS, OidcIdentity, Profile, User
from core.personal_data import iso


def export_personal_data(user: User) -> dict[str, Any]:
    """The account and the profile (art. 15 and 20)."""
    profile = Profile.objects.filter(user=user).first()
    return {
        "account": {
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "language": user.language,
            "news_opt_in": user.news_opt_in,
            "date_joined": iso(user.date_joined),
            "last_login": iso(user.last_login),
        },
        "profile": {field: getattr(profile, field) for field in PROFILE_FIELDS}
        | {
            "verified_fields": profile.verified_fields,
            "verified_by": profile.verified_by,
            "verified_at": iso(profile.verified_at),
        }
        if profile
        else None,
        "digital_identities": [
            {
                "issuer": identity.issuer,
                "subject": identity.subject,
                "linked_at": iso(identity.created_at),
                "last_login": iso(identity.last_login_at),
            }
            for identity in OidcIdentity.objects.filter(user=user).order_by("pk")
        ],
    }


def rows_naming(user: User) -> list[models.Model]:
    """This app's rows whose admin representation shows the person."""
    return [user, *Profile.objects.filter(user=user), *OidcIdentity.objects.filter(user=user)]
