"""Browser tests: one headless Chromium, driven by Playwright, against pytest-django's live server.

Each test gets fresh browser contexts (cookies, storage). A test takes screenshots of its steps
with `e2e.step("name")`; they stay in memory and are written to test-artifacts/e2e/ only if the
test fails, together with a last screenshot of every page it had open.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.e2e.support import (
    ARTIFACTS_DIR,
    CHROMIUM,
    CHROMIUM_ARGS,
    TIMEOUT_MS,
    UNAVAILABLE,
    sign_in_context,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Playwright

    from accounts.models import User

logger = logging.getLogger(__name__)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs in a real browser against the live server")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    # The test's fixtures are still alive here, so the pages can still be photographed.
    session = getattr(item, "funcargs", {}).get("e2e")
    if report.when == "call" and report.failed and isinstance(session, BrowserSession):
        paths = session.save_artifacts()
        if paths:
            report.sections.append(("e2e screenshots", "\n".join(str(p) for p in paths)))
    return report


@pytest.fixture(scope="package")
def _playwright() -> Iterator[Playwright]:
    if UNAVAILABLE:
        pytest.skip(UNAVAILABLE)
    from playwright.sync_api import expect, sync_playwright

    # While Playwright runs, its asyncio loop counts as running in this thread, and Django
    # then refuses ORM calls ("async context"). Allowed only for this package: the loop is
    # stopped, and the variable restored, before any other test runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    expect.set_options(timeout=TIMEOUT_MS)
    playwright = sync_playwright().start()
    try:
        yield playwright
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_playwright: Playwright) -> Iterator[Browser]:
    """One Chromium for the whole package: starting it costs more than most tests."""
    # Screenshots of an earlier run's failures would be taken for this run's.
    for old in [*ARTIFACTS_DIR.glob("*.png"), *ARTIFACTS_DIR.glob("*-console.txt")]:
        old.unlink()
    browser = _playwright.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
    )
    yield browser
    browser.close()


@dataclass(frozen=True)
class ConsoleEntry:
    page: str
    type: str
    text: str
    url: str


@dataclass
class BrowserSession:
    """The pages one test opens, their console output and the screenshots of its steps."""

    browser: Browser
    base_url: str
    test_name: str
    contexts: list[BrowserContext] = field(default_factory=list)
    pages: dict[str, Page] = field(default_factory=dict)
    console: list[ConsoleEntry] = field(default_factory=list)
    shots: list[tuple[str, bytes]] = field(default_factory=list)

    def new_page(self, label: str, *, user: User | None = None, **options: Any) -> Page:
        """A page in a context of its own (its own cookies), signed in as `user` if given."""
        context = self.browser.new_context(
            base_url=self.base_url,
            locale="it-IT",
            timezone_id="Europe/Rome",
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        self.contexts.append(context)
        if user is not None:
            sign_in_context(context, user, self.base_url)
        page = context.new_page()
        page.on("console", lambda message: self._log(label, message))
        page.on(
            "pageerror",
            lambda error: self.console.append(ConsoleEntry(label, "pageerror", str(error), "")),
        )
        self.pages[label] = page
        return page

    def _log(self, label: str, message: ConsoleMessage) -> None:
        location = message.location or {}
        self.console.append(
            ConsoleEntry(label, message.type, message.text, location.get("url", ""))
        )

    def step(self, name: str, page: Page | None = None) -> None:
        """Keep a screenshot of `page` (default: every open page), written out on failure."""
        pages = (
            [(label, p) for label, p in self.pages.items() if p is page]
            if page is not None
            else list(self.pages.items())
        )
        for label, p in pages:
            if not p.is_closed():
                number = len(self.shots) + 1
                self.shots.append((f"{number:02d}-{label}-{name}", p.screenshot()))

    def save_artifacts(self) -> list[Path]:
        """Write the steps' screenshots, a last one of every open page and the console."""
        ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in self.shots:
            path = ARTIFACTS_DIR / f"{self.test_name}-{_slug(name)}.png"
            path.write_bytes(data)
            paths.append(path)
        for label, page in self.pages.items():
            if page.is_closed():
                continue
            path = ARTIFACTS_DIR / f"{self.test_name}-failed-{_slug(label)}.png"
            try:
                page.screenshot(path=str(path), full_page=True)
            except Exception as exc:  # a broken page must not hide the failure
                logger.warning("no screenshot of the %s page: %s", label, exc)
            else:
                paths.append(path)
        if self.console:
            path = ARTIFACTS_DIR / f"{self.test_name}-console.txt"
            path.write_text(
                "".join(f"[{e.page}] {e.type}: {e.text} ({e.url})\n" for e in self.console)
            )
            paths.append(path)
        return paths

    def close(self) -> None:
        for context in self.contexts:
            context.close()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")[:150]


@pytest.fixture
def e2e(
    request: pytest.FixtureRequest, browser: Browser, live_server: Any
) -> Iterator[BrowserSession]:
    session = BrowserSession(
        browser=browser, base_url=live_server.url, test_name=_slug(request.node.name)
    )
    yield session
    session.close()


@pytest.fixture
def page(e2e: BrowserSession) -> Page:
    """An anonymous visitor's page."""
    return e2e.new_page("visitor")
