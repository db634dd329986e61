"""A confirmed participant's personal QR code for checking in at the venue (images only; the
token is `enrollment.tokens.make_check_in_token`, read at scan time by attendance)."""

from __future__ import annotations

import io

import segno

from enrollment.models import Enrollment
from enrollment.tokens import make_check_in_token


def _qr(enrollment: Enrollment) -> segno.QRCode:
    # Error correction "M": still readable from a scratched print-out or a dim phone screen.
    return segno.make(make_check_in_token(enrollment), error="m", micro=False)


def check_in_qr_svg(enrollment: Enrollment) -> str:
    """The code as an inline SVG element, sized by CSS (no XML declaration)."""
    return _qr(enrollment).svg_inline(scale=6, border=4)


def check_in_qr_png(enrollment: Enrollment, *, scale: int = 8) -> bytes:
    """The code as a PNG with its quiet zone, for the confirmation e-mail and downloads."""
    buffer = io.BytesIO()
    _qr(enrollment).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()
