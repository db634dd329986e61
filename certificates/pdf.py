"""The certificate PDF: A4, PDF/A-2u, fonts shipped in certificates/fonts, rendered by WeasyPrint.

The renderer fetches nothing from outside: the QR code is inline SVG, the stylesheet is a
string, and the only URLs it resolves are the @font-face files inside certificates/fonts/. Every
other URL (http, data, file elsewhere) is refused, whatever ends up in the HTML.

WeasyPrint takes about a second to import, so it is imported on first render only. The parsed
stylesheet and the font configuration are built once per process and reused: loading the
@font-face fonts into fontconfig is the slow part of a first render.
"""

from __future__ import annotations

import atexit
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import segno
from django.template.loader import render_to_string
from django.utils import translation

FONTS_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FILES = {
    400: "titillium-web-v10-latin-ext_latin-regular.ttf",
    600: "titillium-web-v10-latin-ext_latin-600.ttf",
    700: "titillium-web-v10-latin-ext_latin-700.ttf",
}
# PDF/A-2 level U: archivable (fonts embedded, sRGB output intent, XMP) with searchable text.
PDF_VARIANT = "pdf/a-2u"


class FetchRefused(ValueError):
    """The renderer asked for a URL outside certificates/fonts/."""


@dataclass(frozen=True)
class CertificateContent:
    """Everything printed on a certificate, already formatted; no database objects."""

    language: str
    organiser: str
    course_title: str
    course_code: str
    venue: str
    dates_text: str
    session_count: int
    holder_name: str
    codice_fiscale: str
    hours_text: str
    threshold_percent: int
    credits_text: str
    scientific_lead: str
    teachers: list[str]
    place: str
    issue_date_text: str
    serial: str
    verification_code: str
    verify_url: str
    provider: str = ""
    course_type: str = ""


@cache
def _font_bytes(name: str) -> bytes:
    return (FONTS_DIR / name).read_bytes()


def resolve_font_url(url: str) -> bytes:
    """The bytes of a font inside certificates/fonts/ for a file:// URL; refuse anything else."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        raise FetchRefused(f"refused to fetch {url[:200]!r}: only the bundled fonts are allowed")
    if parts.query or parts.fragment:
        raise FetchRefused(f"refused to fetch {url[:200]!r}")
    path = Path(url2pathname(unquote(parts.path))).resolve()
    # resolve() follows symlinks and "..", so the check is on the real location.
    if path.parent != FONTS_DIR or path.name not in FONT_FILES.values():
        raise FetchRefused(f"refused to fetch {url[:200]!r}: not a bundled font")
    return _font_bytes(path.name)


def font_face_css() -> str:
    rules = []
    for weight, name in FONT_FILES.items():
        url = (FONTS_DIR / name).as_uri()
        rules.append(
            "@font-face { font-family: 'Titillium Web'; font-style: normal; "
            f"font-weight: {weight}; src: url('{url}') format('truetype'); }}"
        )
    return "\n".join(rules)


class _Renderer:
    def __init__(self) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration
        from weasyprint.urls import URLFetcher, URLFetcherResponse

        class FontsOnlyFetcher(URLFetcher):
            def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
                return URLFetcherResponse(
                    url, body=resolve_font_url(url), headers={"Content-Type": "font/ttf"}
                )

        self.fetcher = FontsOnlyFetcher()
        self.font_config = FontConfiguration()
        css = font_face_css() + "\n" + render_to_string("certificates/pdf/certificate.css")
        self.stylesheet = CSS(string=css, font_config=self.font_config, url_fetcher=self.fetcher)
        # A FontConfiguration is not meant to be shared by threads rendering at once.
        self.lock = threading.Lock()

    def render(self, html: str) -> bytes:
        from weasyprint import HTML

        document = HTML(string=html, base_url=None, url_fetcher=self.fetcher)
        with self.lock:
            return document.write_pdf(
                stylesheets=[self.stylesheet],
                font_config=self.font_config,
                pdf_variant=PDF_VARIANT,
            )


_renderer: _Renderer | None = None
_renderer_lock = threading.Lock()
_atexit_registered = False


def _get_renderer() -> _Renderer:
    global _renderer, _atexit_registered
    if _renderer is None:
        with _renderer_lock:
            if _renderer is None:
                _renderer = _Renderer()
                if not _atexit_registered:
                    # Drop it while the interpreter is still whole: the font configuration's
                    # finaliser removes its temporary directory and fails once modules are gone.
                    atexit.register(reset_renderer)
                    _atexit_registered = True
    return _renderer


def reset_renderer() -> None:
    """Forget the cached stylesheet and fonts (tests; a worker after the fonts changed)."""
    global _renderer
    with _renderer_lock:
        _renderer = None


def qr_svg(url: str) -> str:
    """The verification URL as an inline SVG QR code (no file, no fetch)."""
    qr = segno.make(url, error="m", micro=False)
    return qr.svg_inline(scale=1, border=0, dark="#1a1a1a", omitsize=True)


def certificate_html(content: CertificateContent) -> str:
    """The certificate as HTML (autoescaped: user text cannot inject markup)."""
    with translation.override(content.language):
        return render_to_string(
            "certificates/pdf/certificate.html",
            {"c": content, "qr_svg": qr_svg(content.verify_url)},
        )


def render_certificate_pdf(content: CertificateContent) -> bytes:
    """The certificate PDF, in the holder's language."""
    return _get_renderer().render(certificate_html(content))


def render_html_pdf(html: str) -> bytes:
    """Another document (the libretto) with the certificate's renderer, fonts and stylesheet."""
    return _get_renderer().render(html)
