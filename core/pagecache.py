"""Whole-page cache for what anonymous visitors see (catalogue, course pages).

Every change that shows on those pages (a seat taken or freed, a course edited) bumps one
version number, which makes every cached page stale at once; the TTL is only a safety net.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

VERSION_KEY = "public-pages-version"
TTL = 10 * 60


def _version() -> int:
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, None)
        version = cache.get(VERSION_KEY, 1)
    return version


def invalidate_public_pages() -> None:
    """Make every cached public page stale, once the current transaction commits."""

    def bump() -> None:
        try:
            cache.incr(VERSION_KEY)
        except ValueError:
            cache.add(VERSION_KEY, 1, None)
            cache.incr(VERSION_KEY)

    transaction.on_commit(bump)


def cached_for_anonymous(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve anonymous GETs from the cache; signed-in users always get a fresh page."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if (
            request.method != "GET"
            or request.GET
            or "messages" in request.COOKIES
            or request.user.is_authenticated
        ):
            return view(request, *args, **kwargs)
        key = f"page:{_version()}:{get_language()}:{request.path}"
        hit = cache.get(key)
        if hit is not None:
            content, content_type = hit
            response = HttpResponse(content, content_type=content_type)
            response["Vary"] = "Cookie"
            return response
        response = view(request, *args, **kwargs)
        if response.status_code == 200 and not response.cookies:
            cache.set(key, (response.content, response["Content-Type"]), TTL)
        return response

    return wrapper
