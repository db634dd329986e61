"""A Redis cache that degrades to "no cache" while Redis is unreachable.

Pages, sessions (cached_db) and the public-page cache all read through it, so a Redis outage
costs speed, not availability.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError)


class TolerantRedisCache(RedisCache):
    def _safe(self, default: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return getattr(super(), method)(*args, **kwargs)
        except DOWN:
            logger.warning("cache unavailable: %s skipped", method)
            return default

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._safe(default, "get", key, default, version)

    def get_many(self, keys: Any, version: int | None = None) -> dict:
        return self._safe({}, "get_many", keys, version)

    def set(self, *args: Any, **kwargs: Any) -> None:
        return self._safe(None, "set", *args, **kwargs)

    def add(self, *args: Any, **kwargs: Any) -> bool:
        return self._safe(False, "add", *args, **kwargs)

    def set_many(self, *args: Any, **kwargs: Any) -> list:
        return self._safe([], "set_many", *args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> bool:
        return self._safe(False, "delete", *args, **kwargs)

    def delete_many(self, *args: Any, **kwargs: Any) -> None:
        return self._safe(None, "delete_many", *args, **kwargs)

    def touch(self, *args: Any, **kwargs: Any) -> bool:
        return self._safe(False, "touch", *args, **kwargs)

    def has_key(self, *args: Any, **kwargs: Any) -> bool:
        return self._safe(False, "has_key", *args, **kwargs)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        # A ValueError (missing key) still propagates: callers handle it.
        return self._safe(0, "incr", key, delta, version)
