"""Helpers shared by the browser tests: where Chromium is, signing in, axe-core."""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Locator, Page

    from accounts.models import User

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
# Nothing but the live server: no updates, sync, first-run pages or QUIC probes in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
# Every page of the portal answers in well under a second: 10 s means something is stuck.
TIMEOUT_MS = 10_000
ARTIFACTS_DIR = Path(__file__).resolve().parents[2] / "test-artifacts" / "e2e"
AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}


def _unavailable() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "browser tests need Playwright: pip install playwright==1.65.2"
    if not Path(CHROMIUM).is_file():
        return f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)"
    return ""


# Empty when the browser tests can run; otherwise why not, for the skip message.
UNAVAILABLE = _unavailable()


def label(text: str) -> re.Pattern[str]:
    """A form label that starts with `text`: crispy forms add "*" and line breaks around it."""
    return re.compile(rf"^\s*{re.escape(text)}")


def tick(control: Locator) -> None:
    """Check a checkbox or radio button with a real click.

    Bootstrap Italia draws the box of a `.form-check` on its label, which then lies over the
    input and catches the click (as it does for a person); `force` lets the click land on
    whatever is on top, and check() still fails unless the control ends up checked.
    """
    control.check(force=True)


def log_in(page: Page, *, email: str, password: str) -> None:
    """Fill in and submit the login form the page is showing."""
    page.get_by_label(label("Indirizzo e-mail")).fill(email)
    page.get_by_label(label("Password")).fill(password)
    page.get_by_role("button", name="Accedi", exact=True).click()


def sign_in_context(context: BrowserContext, user: User, base_url: str) -> None:
    """Give a browser context a session of `user` without going through the login form."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": base_url}]
    )


@cache
def _axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


def run_axe(page: Page) -> list[dict[str, Any]]:
    """The WCAG 2.1 A/AA violations of the current page that are serious or critical."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Not add_script_tag: the portal's CSP (script-src 'self') refuses inline scripts, and
        # evaluate() goes through the DevTools protocol, which the CSP does not cover.
        page.evaluate(_axe_source())
    results = page.evaluate(
        "options => axe.run(document, options)",
        {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]},
    )
    return [v for v in results["violations"] if v["impact"] in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]], *, targets: int = 3) -> str:
    """One block per violation: rule id, impact, help and the first few elements."""
    lines = []
    for violation in violations:
        lines.append(
            f"- {violation['id']} [{violation['impact']}] {violation['help']} "
            f"({violation['helpUrl']})"
        )
        for node in violation["nodes"][:targets]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    {target}  {node['html'][:160]}")
        if len(violation["nodes"]) > targets:
            lines.append(f"    ... and {len(violation['nodes']) - targets} more")
    return "\n".join(lines)
