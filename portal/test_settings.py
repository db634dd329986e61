"""Test settings: everything from portal.settings, overriding only what tests need.

PostgreSQL is the reference database. Without DATABASE_URL the suite uses a local PostgreSQL
server on 127.0.0.1:5432 when one answers; otherwise it falls back to SQLite, and the tests that
need PostgreSQL (row locks, concurrency) are skipped and listed at the end of the run.
"""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("DEBUG", "1")

if not os.environ.get("DATABASE_URL"):
    try:
        import psycopg2

        psycopg2.connect(
            host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=2
        ).close()
        os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/corsipa"
    except Exception:  # any failure means "no server here"
        os.environ["DATABASE_URL"] = "sqlite:///" + os.path.join(
            tempfile.gettempdir(), "corsipa-test.sqlite3"
        )

from portal.settings import *  # noqa: F403
from portal.settings import CACHES, DATABASES, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
MEDIA_ROOT = tempfile.mkdtemp(prefix="corsipa-media-")
PKI_DIR = VAR_DIR / "test-pki"
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "fragments": CACHES["fragments"],
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DB_NAME", "test_corsipa")}
if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
