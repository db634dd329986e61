from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from api.models import ApiKey

PREFIX_LENGTH = 8


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def create_api_key(*, name: str, organisation: str, scope: str) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is stored only as a hash."""
    raw_key = secrets.token_urlsafe(32)  # 32 random bytes
    key = ApiKey(
        name=name,
        organisation=organisation.strip(),
        scope=scope,
        prefix=raw_key[:PREFIX_LENGTH],
        hashed_key=hash_key(raw_key),
    )
    key.full_clean()
    key.save()
    return key, raw_key


def set_key_secret(*, key: ApiKey) -> str:
    """Give an unsaved key (the admin's form) a fresh secret; returns the raw value."""
    raw_key = secrets.token_urlsafe(32)
    key.prefix = raw_key[:PREFIX_LENGTH]
    key.hashed_key = hash_key(raw_key)
    return raw_key


def revoke_api_keys(*, key_ids: list[int]) -> int:
    with transaction.atomic():
        return ApiKey.objects.filter(pk__in=key_ids, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )


def touch_api_key(*, key: ApiKey) -> None:
    now = timezone.now()
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
