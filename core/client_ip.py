"""The client's address, the one notion used by the login lockout, every rate limit and the logs.

Behind reverse proxies REMOTE_ADDR is the nearest proxy. Each trusted proxy appends the address
it saw to X-Forwarded-For, so with PROXY_COUNT trusted proxies the client is the PROXY_COUNT-th
entry from the right; anything further left was written by the client and may be forged.
"""

from __future__ import annotations

import contextvars
import ipaddress
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.conf import settings

if TYPE_CHECKING:
    from django.http import HttpRequest

_current: contextvars.ContextVar[str] = contextvars.ContextVar("client_ip", default="-")


def _is_address(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def address_from_meta(meta: Mapping[str, str], *, proxy_count: int) -> str:
    """The client's address from request.META (or a WSGI environ) behind `proxy_count` proxies."""
    remote = meta.get("REMOTE_ADDR", "")
    if proxy_count <= 0:
        return remote
    forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if not forwarded:
        return remote  # reached us without passing through the proxy
    # Fewer entries than proxies: the farthest address a trusted proxy saw.
    candidate = forwarded[-min(proxy_count, len(forwarded))]
    # A proxy that writes something else than an address is misconfigured: fall back to the
    # peer rather than keying limits on free text.
    return candidate if _is_address(candidate) else remote


def client_ip(request: HttpRequest) -> str:
    """The address of the person making the request, as set by PROXY_COUNT."""
    return address_from_meta(request.META, proxy_count=settings.PROXY_COUNT)


def set_current(address: str) -> contextvars.Token[str]:
    return _current.set(address)


def reset_current(token: contextvars.Token[str]) -> None:
    _current.reset(token)


class ClientAddressLogFilter(logging.Filter):
    """Adds `client_ip` to every log record: the address of the request being served, or "-"."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        meta = getattr(request, "META", None)
        if meta is not None:
            # django.request logs some responses after the middleware has finished.
            record.client_ip = address_from_meta(meta, proxy_count=settings.PROXY_COUNT)
        else:
            record.client_ip = _current.get()
        return True
