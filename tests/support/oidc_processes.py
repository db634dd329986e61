"""Starting the tests' OpenID Connect providers as real processes on free local ports.

- `run_test_provider`: tests/support/oidc_provider.py (Python), which can misbehave on demand.
- `run_node_provider`: node-oidc-provider (tests/support/oidc/server.mjs) with its development
  sign-in page, for the browser test. Its packages come from `npm ci` in tests/support/oidc
  (CI runs it); without them the tests that need it are skipped with the reason, except in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = Path(__file__).resolve().parent / "oidc"
CLIENT_ID = "corsi-pa-test"
CLIENT_SECRET = "test-client-secret-0123456789abcdef"


def _node_unavailable() -> str:
    if shutil.which("node") is None:
        return "the OpenID Connect provider tests need Node.js (apt-get install nodejs npm)"
    if not (NODE_DIR / "node_modules" / "oidc-provider").is_dir():
        return "node-oidc-provider is not installed: run `npm ci` in tests/support/oidc"
    return ""


# Empty when node-oidc-provider can run; otherwise why not.
NODE_UNAVAILABLE = _node_unavailable()


def require_node_provider() -> None:
    """Skip without node-oidc-provider, except in CI, where its absence is a failure."""
    import pytest

    if NODE_UNAVAILABLE:
        if os.environ.get("CI"):
            pytest.fail(NODE_UNAVAILABLE)
        pytest.skip(NODE_UNAVAILABLE)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_ready(process: subprocess.Popen[bytes], directory: Path, what: str) -> str:
    deadline = time.monotonic() + 20
    while not (directory / "ready").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the test {what} did not start")
        time.sleep(0.05)
    time.sleep(0.05)  # the file is written once listening; let the write finish
    return (directory / "ready").read_text().strip()


@contextmanager
def _running(command: list[str], directory: Path, what: str) -> Iterator[str]:
    process = subprocess.Popen(command, cwd=ROOT)
    try:
        yield _wait_ready(process, directory, what)
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass(frozen=True)
class LocalOidcProvider:
    issuer: str

    def control(self, *, mode: str = "good", person: dict[str, Any] | None = None) -> None:
        body = json.dumps({"mode": mode, "person": person or {}}).encode()
        request = urllib.request.Request(  # noqa: S310 (a local http URL of our own)
            f"{self.issuer}/_control", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 200

    def last(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.issuer}/_last", timeout=5) as response:  # noqa: S310
            return json.loads(response.read())


@contextmanager
def run_test_provider(directory: Path) -> Iterator[LocalOidcProvider]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "tests.support.oidc_provider",
        str(directory),
        str(port),
        CLIENT_ID,
        CLIENT_SECRET,
    ]
    with _running(command, directory, "OpenID Connect provider") as issuer:
        yield LocalOidcProvider(issuer=issuer)


@contextmanager
def run_node_provider(
    directory: Path, *, portal_url: str, accounts: dict[str, dict[str, str]]
) -> Iterator[str]:
    """node-oidc-provider with `accounts` (login → claims) for the portal at `portal_url`."""
    config = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{portal_url}/accounts/oidc/callback/"],
        "post_logout_redirect_uris": [f"{portal_url}/"],
        "accounts": accounts,
    }
    (directory / "config.json").write_text(json.dumps(config))
    command = ["node", str(NODE_DIR / "server.mjs"), str(directory), str(free_port())]
    with _running(command, directory, "node-oidc-provider") as issuer:
        yield issuer
