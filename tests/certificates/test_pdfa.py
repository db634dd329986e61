"""The certificate's PDF meets the basics of PDF/A-2u, checked with pikepdf: identification in
the XMP metadata, an sRGB output intent, every font embedded, no encryption, no JavaScript."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pikepdf
import pytest

from certificates.pdf import render_certificate_pdf
from certificates.seal import get_ca_pem
from certificates.services import issue_certificate
from certificates.signing import verify_p7m
from tests.certificates.test_pdf import CONTENT

pytestmark = pytest.mark.slow

JAVASCRIPT_KEYS = {"/JavaScript", "/JS"}


@pytest.fixture(scope="module")
def pdf() -> Iterator[pikepdf.Pdf]:
    with pikepdf.open(io.BytesIO(render_certificate_pdf(CONTENT))) as document:
        yield document


def _walk(obj: object, seen: set[tuple[int, int]]) -> Iterator[pikepdf.Dictionary]:
    """Every dictionary (streams' too) reachable from `obj`, each indirect object once."""
    if isinstance(obj, pikepdf.Object) and obj.is_indirect:
        if obj.objgen in seen:
            return
        seen.add(obj.objgen)
    if isinstance(obj, pikepdf.Stream):
        yield obj.stream_dict
        for value in obj.stream_dict.values():
            yield from _walk(value, seen)
    elif isinstance(obj, pikepdf.Dictionary):
        yield obj
        for value in obj.values():
            yield from _walk(value, seen)
    elif isinstance(obj, pikepdf.Array):
        for value in obj:
            yield from _walk(value, seen)


def _fonts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    """Every font of every page, with the descendant fonts of composite (Type0) fonts."""
    for page in pdf.pages:
        for _name, font in page.resources.get("/Font", pikepdf.Dictionary()).items():
            yield font
            yield from font.get("/DescendantFonts", pikepdf.Array())


def check_xmp_metadata_identifies_pdfa_2u(pdf: pikepdf.Pdf) -> None:
    meta = pdf.open_metadata()

    assert meta.get("pdfaid:part") == "2"
    assert meta.get("pdfaid:conformance") == "U"


def check_output_intent_is_pdfa_with_an_icc_profile(pdf: pikepdf.Pdf) -> None:
    intents = pdf.Root.get("/OutputIntents")

    assert intents is not None and len(intents) >= 1
    intent = intents[0]
    assert intent.S == "/GTS_PDFA1"
    profile = intent.DestOutputProfile
    assert isinstance(profile, pikepdf.Stream)
    assert int(profile.N) == 3  # RGB
    assert profile.read_bytes()[36:40] == b"acsp"  # the ICC signature


def check_every_font_is_embedded(pdf: pikepdf.Pdf) -> None:
    fonts = list(_fonts(pdf))
    assert fonts

    not_embedded = []
    for font in fonts:
        if font.Subtype == "/Type0":
            continue  # its glyphs are in the descendant font, checked on its own
        descriptor = font.get("/FontDescriptor")
        if descriptor is None or not any(
            key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
        ):
            not_embedded.append(str(font.get("/BaseFont")))
    assert not_embedded == []


def check_not_encrypted(pdf: pikepdf.Pdf) -> None:
    assert not pdf.is_encrypted
    assert "/Encrypt" not in pdf.trailer


def check_no_javascript_and_no_automatic_actions(pdf: pikepdf.Pdf) -> None:
    assert "/OpenAction" not in pdf.Root or "/JS" not in pdf.Root.OpenAction
    assert "/AA" not in pdf.Root
    names = pdf.Root.get("/Names", pikepdf.Dictionary())
    assert "/JavaScript" not in names

    offending = []
    for dictionary in _walk(pdf.trailer, set()):
        keys = set(dictionary.keys())
        if keys & JAVASCRIPT_KEYS or "/AA" in keys or dictionary.get("/S") == "/JavaScript":
            offending.append(sorted(keys))
    assert offending == []


CHECKS = [
    check_xmp_metadata_identifies_pdfa_2u,
    check_output_intent_is_pdfa_with_an_icc_profile,
    check_every_font_is_embedded,
    check_not_encrypted,
    check_no_javascript_and_no_automatic_actions,
]


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_rendered_certificate_is_pdfa_2u(pdf, check):
    check(pdf)


def test_the_issued_certificate_envelopes_a_pdfa_2u_pdf(eligible):
    # The PDF as the participant gets it: out of the signed .pdf.p7m.
    certificate, _created = issue_certificate(enrollment=eligible)
    with certificate.file.open("rb") as fh:
        result = verify_p7m(fh.read(), trusted_ca_pem=get_ca_pem())
    assert result.valid and result.content is not None

    with pikepdf.open(io.BytesIO(result.content)) as document:
        for check in CHECKS:
            check(document)


def test_a_type0_font_without_an_embedded_descendant_would_be_caught():
    # The checks above must be able to fail: a PDF whose only font is a non-embedded Type0.
    document = pikepdf.new()
    descendant = document.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.CIDFontType2,
            BaseFont=pikepdf.Name("/Helvetica"),
            FontDescriptor=pikepdf.Dictionary(Type=pikepdf.Name.FontDescriptor),
        )
    )
    font = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type0,
        BaseFont=pikepdf.Name("/Helvetica"),
        DescendantFonts=pikepdf.Array([descendant]),
    )
    document.add_blank_page()
    document.pages[0].Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))

    with pytest.raises(AssertionError):
        check_every_font_is_embedded(document)


def test_a_pdf_with_javascript_or_encryption_would_be_caught(tmp_path):
    document = pikepdf.new()
    document.add_blank_page()
    document.Root.OpenAction = pikepdf.Dictionary(
        S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert(1)")
    )
    with pytest.raises(AssertionError):
        check_no_javascript_and_no_automatic_actions(document)

    path = tmp_path / "encrypted.pdf"
    pikepdf.new().save(path, encryption=pikepdf.Encryption(owner="o", user=""))
    with pikepdf.open(path) as encrypted, pytest.raises(AssertionError):
        check_not_encrypted(encrypted)
