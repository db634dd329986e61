"""Where the signed-in user's row is cached (read by accounts.backends, dropped by User.save)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction

USER_CACHE_SECONDS = 300


def user_cache_key(user_id: Any) -> str:
    return f"accounts:user:{user_id}"


def forget_cached_user(*, user_id: Any) -> None:
    """Drop the cached row of a user now and once the current transaction commits."""
    key = user_cache_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))
