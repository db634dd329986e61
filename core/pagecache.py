"""Whole-page cache for what anonymous visitors see (catalogue, course pages), and the static
part of the course pages that signed-in visitors see.

Every change that shows on those pages (a seat taken or freed, a course edited) bumps one
version number, which makes every cached page stale at once; the TTL is only a safety net.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

T = TypeVar("T")
VERSION_KEY = "public-pages-version"
TTL = 10 * 60


# The courses' own content (texts, programme, teachers, quotas): the static part of every course
# page is rendered once per value of this version, for everyone, signed in or not.
CONTENT_VERSION_KEY = "course-content-version"


def _version(key: str = VERSION_KEY) -> int:
    version = cache.get(key)
    if version is None:
        cache.add(key, 1, None)
        version = cache.get(key, 1)
    return version


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        cache.add(key, 1, None)
        cache.incr(key)


def invalidate_public_pages() -> None:
    """Make every cached public page stale, once the current transaction commits."""
    transaction.on_commit(lambda: _bump(VERSION_KEY))


def invalidate_course_content() -> None:
    """A course's texts, programme, teachers or quotas changed: the public pages and the static
    parts of the course pages are stale, once the current transaction commits."""
    invalidate_public_pages()
    transaction.on_commit(lambda: _bump(CONTENT_VERSION_KEY))


def content_version() -> int:
    """The current version of the courses' content: read it once per request and pass it on."""
    return _version(CONTENT_VERSION_KEY)


def _content_key(name: str, key: object, version: int) -> str:
    return f"content:{name}:{version}:{get_language()}:{key}"


def cached_course_content(
    name: str, key: object, compute: Callable[[], T], *, version: int | None = None
) -> T:
    """Something made only of the courses' own content (a course with its sessions, a part of
    its page), computed once per content version and language and then reused by everyone."""
    full_key = _content_key(name, key, content_version() if version is None else version)
    value = cache.get(full_key)
    if value is None:
        value = compute()
        cache.set(full_key, value, TTL)
    return value


def cached_course_fragments(
    course_id: int, renders: dict[str, Callable[[], str]], *, version: int
) -> dict[str, SafeString]:
    """Parts of a course page that show only the course's own content, rendered once per
    content version and language and then reused for every visitor: one cache round-trip for
    all of them when they are there."""
    keys = {name: _content_key(name, course_id, version) for name in renders}
    found = cache.get_many(list(keys.values()))
    missing = {
        keys[name]: str(render()) for name, render in renders.items() if keys[name] not in found
    }
    if missing:
        cache.set_many(missing, TTL)
        found.update(missing)
    # HTML rendered by our own templates, escaped there.
    return {name: mark_safe(found[key]) for name, key in keys.items()}  # noqa: S308


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
