from __future__ import annotations

import pytest
from django.db import connection


def _on_postgres() -> bool:
    return connection.vendor == "postgresql"


SKIPPED_FOR_SQLITE: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from django.conf import settings

    if "sqlite" not in settings.DATABASES["default"]["ENGINE"]:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (row locks, concurrency)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)
            SKIPPED_FOR_SQLITE.append(item.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    terminalreporter.write_line(f"database used by the suite: {engine}")
    if SKIPPED_FOR_SQLITE:
        terminalreporter.write_line(
            f"{len(SKIPPED_FOR_SQLITE)} PostgreSQL-only tests were skipped on SQLite:"
        )
        for nodeid in SKIPPED_FOR_SQLITE:
            terminalreporter.write_line(f"  {nodeid}")
        terminalreporter.write_line(
            "Run them with a PostgreSQL server: "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/corsipa make test"
        )


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()


@pytest.fixture
def participant(db):
    from tests.factories import ParticipantFactory

    return ParticipantFactory()


@pytest.fixture
def secretariat(db):
    from tests.factories import SecretariatFactory

    return SecretariatFactory()


@pytest.fixture
def course(db):
    from tests.factories import CourseFactory

    return CourseFactory()
