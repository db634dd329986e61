from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from certificates.formatting import normalise_code

MAX_UPLOAD_BYTES = 5 * 1024 * 1024


class VerifyCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Codice di verifica"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=_(
            "Il codice di 16 caratteri stampato in fondo all'attestato, es. ABCD-EFGH-JKMN-PQRS."
        ),
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not code:
            raise forms.ValidationError(_("Il codice non è nel formato corretto."))
        return code


class VerifyFileForm(forms.Form):
    file = forms.FileField(
        label=_("File firmato (.p7m)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".p7m,application/pkcs7-mime"}),
        help_text=_("Il file .pdf.p7m scaricato dal portale, al massimo 5 MB."),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("Il file supera i 5 MB."))
        return upload


class ReissueForm(forms.Form):
    certificate = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Motivo"),
        max_length=255,
        help_text=_("Es. nome corretto su richiesta del partecipante."),
    )


class RevokeForm(forms.Form):
    certificate = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Motivo della revoca"),
        max_length=255,
        help_text=_("Es. rilasciato per errore: presenze registrate in modo sbagliato."),
    )


class LibrettoSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Cerca un partecipante"),
        max_length=150,
        help_text=_("Nome e cognome, e-mail o codice fiscale."),
    )
