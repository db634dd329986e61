"""The portal serves its own assets: no static file may load anything from a CDN."""

from __future__ import annotations

import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "static"
CDN = re.compile(rb"https?://[^\"' )]*(cdn|jsdelivr|unpkg|googleapis|gstatic|cloudflare)", re.I)


def test_no_static_file_refers_to_a_cdn():
    offenders = [
        f"{path.relative_to(STATIC)}: {match.group(0).decode(errors='replace')}"
        for path in STATIC.rglob("*")
        if path.is_file() and path.suffix in {".js", ".css", ".html", ".svg"}
        for match in [CDN.search(path.read_bytes())]
        if match
    ]
    assert offenders == []
