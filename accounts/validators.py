from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.it import codicefiscale


def normalise_codice_fiscale(value: str) -> str:
    return codicefiscale.compact(value or "")


def validate_codice_fiscale(value: str) -> None:
    """Reject a codice fiscale whose format or check character is wrong."""
    if not value:
        return
    try:
        compact = codicefiscale.validate(value)
    except StdnumError as exc:
        raise ValidationError(
            _("Il codice fiscale non è valido: controlla lettere, cifre e carattere di controllo."),
            code="invalid_codice_fiscale",
        ) from exc
    # Temporary 11-digit codes are for companies, not people.
    if len(compact) != 16:
        raise ValidationError(
            _("Inserisci il codice fiscale personale di 16 caratteri."),
            code="invalid_codice_fiscale",
        )
