from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import OrganisationType
from enrollment.models import Enrollment


class EnrollmentFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Cerca"), required=False, help_text=_("Nome, e-mail, codice fiscale o ente")
    )
    status = forms.ChoiceField(
        label=_("Stato"),
        required=False,
        choices=[("", _("Tutti"))] + list(Enrollment.Status.choices),
    )
    quota = forms.ChoiceField(
        label=_("Quota"),
        required=False,
        choices=[("", _("Tutte"))] + list(OrganisationType.choices),
    )


class BulkActionForm(forms.Form):
    ACTIONS = [
        ("approve", _("Conferma le richieste selezionate")),
        ("confirm_waitlisted", _("Sposta dalla lista d'attesa ai confermati (entro i posti)")),
        ("waitlist", _("Sposta in lista d'attesa")),
        ("reject", _("Respingi")),
        ("cancel", _("Annulla l'iscrizione")),
    ]
    action = forms.ChoiceField(label=_("Azione"), choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, label=_("Iscrizioni"))
    reason = forms.CharField(
        label=_("Motivo"),
        required=False,
        max_length=500,
        help_text=_("Facoltativo: resta nello storico delle iscrizioni."),
    )

    def __init__(self, *args: object, enrollment_ids: list[int], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ids"].choices = [(pk, pk) for pk in enrollment_ids]
        self.fields["ids"].error_messages["required"] = _("Seleziona almeno un'iscrizione.")
