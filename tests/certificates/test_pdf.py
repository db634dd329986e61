"""The renderer: escaped user text, no fetching beyond the bundled fonts, formatting helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest
from django.utils import translation

from certificates.formatting import (
    format_hours,
    group_code,
    mask_name,
    new_verification_code,
    normalise_code,
)
from certificates.pdf import (
    FONT_FILES,
    FONTS_DIR,
    CertificateContent,
    FetchRefused,
    certificate_html,
    render_certificate_pdf,
    resolve_font_url,
)
from core.formatting import format_dates, format_duration
from tests.certificates.conftest import pdf_text

CONTENT = CertificateContent(
    language="it",
    organiser="Città Metropolitana di Milano",
    course_title="Corso di prova",
    course_code="T0001/1",
    venue="Viale Piceno 60, Milano",
    dates_text="5, 12 e 19 marzo 2026",
    session_count=3,
    holder_name="Mario Rossi",
    codice_fiscale="RSSMRA80A01F205X",
    hours_text="10 ore e 30 minuti su 12 ore",
    threshold_percent=80,
    credits_text="",
    scientific_lead="",
    teachers=[],
    place="Milano",
    issue_date_text="20 marzo 2026",
    serial="T0001-1-2026-000001",
    verification_code="ABCD-EFGH-JKMN-PQRS",
    verify_url="https://corsi.example.org/verify/ABCDEFGHJKMNPQRS/",
)


def test_user_text_is_escaped():
    hostile = '<img src="http://169.254.169.254/latest/meta-data/"><link rel=stylesheet href="file:///etc/passwd">'

    html = certificate_html(replace(CONTENT, holder_name=hostile, course_title=hostile))

    assert "<img" not in html and "<link" not in html
    assert "&lt;img src=&quot;http://169.254.169.254" in html


def test_hostile_text_renders_as_text_and_fetches_nothing(tmp_path, monkeypatch):
    fetched: list[str] = []
    import certificates.pdf as pdf_module

    original = pdf_module.resolve_font_url

    def spy(url: str) -> bytes:
        fetched.append(url)
        return original(url)

    monkeypatch.setattr(pdf_module, "resolve_font_url", spy)
    hostile = '<img src="http://127.0.0.1:1/x.png">'

    pdf = render_certificate_pdf(replace(CONTENT, holder_name=hostile))

    assert '<img src="http://127.0.0.1:1/x.png">' in " ".join(pdf_text(pdf, tmp_path).split())
    assert all(url.startswith("file://") for url in fetched)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "https://example.org/font.ttf",
        "file:///etc/passwd",
        (FONTS_DIR / ".." / "pdf.py").as_uri(),
        (FONTS_DIR / "OFL.txt").as_uri(),
        "file://evil.example.org" + (FONTS_DIR / FONT_FILES[400]).as_posix(),
        (FONTS_DIR / FONT_FILES[400]).as_uri() + "?x=1",
        "data:font/ttf;base64,AAAA",
        "ftp://example.org/x",
        "",
    ],
)
def test_fetcher_refuses_everything_but_the_bundled_fonts(url):
    with pytest.raises(FetchRefused):
        resolve_font_url(url)


def test_fetcher_serves_the_bundled_fonts():
    for name in FONT_FILES.values():
        assert resolve_font_url((FONTS_DIR / name).as_uri())[:4] in (b"\x00\x01\x00\x00", b"true")


def test_fetcher_refuses_a_symlink_out_of_the_fonts_dir(tmp_path):
    link = tmp_path / FONT_FILES[400]
    link.symlink_to("/etc/passwd")

    with pytest.raises(FetchRefused):
        resolve_font_url(link.as_uri())


def test_durations():
    with translation.override("it"):
        assert format_duration(41) == "41 minuti"
        assert format_duration(1) == "1 minuto"
        assert format_duration(60) == "1 ora"
        assert format_duration(630) == "10 ore e 30 minuti"
        assert format_duration(61) == "1 ora e 1 minuto"
        assert format_hours(630, 720) == "10 ore e 30 minuti su 12 ore"


def test_dates():
    d = dt.date
    with translation.override("it"):
        assert format_dates([d(2026, 3, 19), d(2026, 3, 5), d(2026, 3, 12)]) == (
            "5, 12 e 19 marzo 2026"
        )
        assert format_dates([d(2026, 2, 26), d(2026, 3, 5), d(2026, 3, 12)]) == (
            "26 febbraio, 5 e 12 marzo 2026"
        )
        assert format_dates([d(2025, 12, 18), d(2026, 1, 8)]) == "18 dicembre 2025 e 8 gennaio 2026"
        assert format_dates([d(2026, 3, 5)]) == "5 marzo 2026"


def test_masked_name():
    assert mask_name("Mario", "Rossi") == "Ma*** Ro***"
    assert mask_name("Maria Grazia", "De Luca") == "Ma*** Gr*** D*** Lu***"


def test_codes_are_random_and_forgiving():
    codes = {new_verification_code() for _ in range(200)}
    assert len(codes) == 200
    code = codes.pop()
    assert normalise_code(group_code(code).lower()) == code
    assert normalise_code("ABCD-EFGH-JKMN-PQRO") == "ABCDEFGHJKMNPQR0"
    assert normalise_code("short") == ""
    assert normalise_code("<script>") == ""


def test_renderer_refuses_urls_in_the_html_itself(monkeypatch):
    """Even markup that is not escaped (a template bug) cannot make the renderer fetch."""
    import certificates.pdf as pdf_module

    asked: list[str] = []
    refused: list[str] = []
    original = pdf_module.resolve_font_url

    def spy(url: str) -> bytes:
        asked.append(url)
        try:
            return original(url)
        except FetchRefused:
            refused.append(url)
            raise

    monkeypatch.setattr(pdf_module, "resolve_font_url", spy)
    html = (
        '<img src="http://127.0.0.1:9/x.png"><img src="file:///etc/hostname">'
        '<link rel="stylesheet" href="https://example.org/x.css">'
        '<div style="background: url(data:image/png;base64,iVBORw0KGgo=)">x</div>'
    )

    pdf = pdf_module._get_renderer().render(html)

    assert pdf.startswith(b"%PDF-")
    assert set(asked) == set(refused)
    assert "http://127.0.0.1:9/x.png" in refused
    assert "file:///etc/hostname" in refused
