"""This app's part of a person's data: privacy composes every app's into one export."""

from __future__ import annotations

from typing import Any

from django.db import models

from accounts.models import PROFILE_FIELDS, Profile, User
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
        if profile
        else None,
    }


def rows_naming(user: User) -> list[models.Model]:
    """This app's rows whose admin representation shows the person."""
    return [user, *Profile.objects.filter(user=user)]
