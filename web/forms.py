from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AccessibilityFeedbackForm(forms.Form):
    name = forms.CharField(label=_("Nome e cognome"), max_length=150, required=False)
    email = forms.EmailField(
        label=_("E-mail"), help_text=_("Per risponderti sull'esito della segnalazione.")
    )
    page_url = forms.CharField(
        label=_("Pagina o documento interessato"),
        max_length=500,
        required=False,
        help_text=_(
            "L'indirizzo della pagina o il nome del documento, se riguarda uno in particolare."
        ),
    )
    message = forms.CharField(
        label=_("Descrivi il problema"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
