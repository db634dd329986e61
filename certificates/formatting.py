"""Plain-text pieces of certificates: hours attended, masked names, verification codes.

No database access: used by the PDF renderer, the selectors and the benchmark alike.
Durations and dates come from core.formatting.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

from django.utils.translation import gettext

from core.formatting import format_duration

# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand is unambiguous.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 16  # 80 bits: unguessable, and short enough to type from paper
_CODE_TRANSLATION = str.maketrans({"O": "0", "I": "1", "L": "1"})
_CODE_RE = re.compile(rf"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")


def new_verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(text: str) -> str:
    """What a person typed (spaces, dashes, lower case, O for 0) → the stored code, or ""."""
    cleaned = re.sub(r"[\s\-.]", "", text or "").upper().translate(_CODE_TRANSLATION)
    return cleaned if _CODE_RE.match(cleaned) else ""


def group_code(code: str) -> str:
    """«ABCD-EFGH-JKMN-PQRS»: easier to read on paper."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def format_hours(attended_minutes: int, total_minutes: int) -> str:
    """«10 ore e 30 minuti su 12 ore»."""
    return gettext("%(attended)s su %(total)s") % {
        "attended": format_duration(attended_minutes),
        "total": format_duration(total_minutes),
    }


def mask_name(first_name: str, last_name: str) -> str:
    """«Ma*** Ro***»: enough to recognise a certificate, not enough to learn a name."""

    def mask(word: str) -> str:
        return word[:2] + "***" if len(word) > 2 else word[:1] + "***"

    words = f"{first_name} {last_name}".split()
    return " ".join(mask(word) for word in words)


def ascii_file_part(text: str, *, default: str) -> str:
    """«D'Amico Nicolò» → «D-Amico-Nicolo»: letters and digits only, safe in any archive tool."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-")[:60] or default


def archive_member_names(pairs: list[tuple[str, str]]) -> list[str]:
    """`<Cognome>-<numero>.pdf.p7m` for each (surname, serial), unique within the archive."""
    names: list[str] = []
    seen: set[str] = set()
    for surname, serial in pairs:
        surname_part = ascii_file_part(surname, default="attestato")
        stem = f"{surname_part}-{ascii_file_part(serial, default='x')}"
        name, n = f"{stem}.pdf.p7m", 1
        # Serials are unique, but two may differ only in characters dropped above.
        while name.lower() in seen:
            n += 1
            name = f"{stem}-{n}.pdf.p7m"
        seen.add(name.lower())
        names.append(name)
    return names
