"""gunicorn settings for the container.

The access log shows the client's address as the portal reads it (PROXY_COUNT), not the proxy's.
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger

bind = "0.0.0.0:8000"
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
timeout = 60
accesslog = "-"


class ClientAddressLogger(Logger):
    def atoms(self, resp, req, environ, request_time):  # type: ignore[no-untyped-def]
        from django.conf import settings

        from core.client_ip import address_from_meta

        atoms = super().atoms(resp, req, environ, request_time)
        atoms["h"] = address_from_meta(environ, proxy_count=settings.PROXY_COUNT)
        return atoms


logger_class = ClientAddressLogger
