"""The authentication backend: Django's ModelBackend, with the signed-in user's row cached.

Every signed-in request loads its user. With sessions already read from Redis (cached_db), the
user's row was the one database round-trip left on pages that need nothing else from the
database, so it is kept in the cache too, under the user's id. `User.save()` and `User.delete()`
drop the entry (again after commit, so a request that read the old row meanwhile cannot keep
it), and the entry expires after a few minutes anyway: a change made without `save()`
(`QuerySet.update()`) is seen at the latest then. The session hash is still checked against the
cached password hash, so a password change signs out other sessions as before.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from accounts.user_cache import USER_CACHE_SECONDS, user_cache_key


class CachedModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        key = user_cache_key(user_id)
        user = cache.get(key)
        if user is None:
            user = super().get_user(user_id)
            if user is None:
                return None
            cache.set(key, user, USER_CACHE_SECONDS)
        return user if self.user_can_authenticate(user) else None
