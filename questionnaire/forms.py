from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from questionnaire.models import SCALE_VALUES, Question
from questionnaire.services import (
    AnswerValue,
    OptionsProblem,
    QuestionData,
    get_options_problem,
)

ANSWER_REQUIRED = _("Rispondi a questa domanda.")
# The service's rule (get_options_problem), said as a hint next to the options field.
OPTIONS_HINTS = {
    OptionsProblem.TOO_FEW_CHOICES: _("Indica almeno due opzioni, una per riga."),
    OptionsProblem.WRONG_SCALE_LABELS: _("Indica cinque etichette (da 1 a 5) oppure nessuna."),
    OptionsProblem.TEXT_WITH_OPTIONS: _("Le domande a testo libero non hanno opzioni."),
}


def _field_name(question: Question) -> str:
    # By position, not id: the page may show the default questions before any row exists.
    return f"q_{question.order}"


class QuestionnaireForm(forms.Form):
    """One field per question; the service checks the rules again when saving."""

    def __init__(self, *args: Any, questions: Sequence[Question], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[_field_name(question)] = self._field_for(question)

    @staticmethod
    def _field_for(question: Question) -> forms.Field:
        common: dict[str, Any] = {
            "label": question.text,
            "required": question.required,
            "error_messages": {"required": ANSWER_REQUIRED},
        }
        if question.kind == Question.Kind.SCALE:
            return forms.TypedChoiceField(
                choices=[(str(v), question.scale_label(v)) for v in SCALE_VALUES],
                coerce=int,
                empty_value=None,
                widget=forms.RadioSelect,
                **common,
            )
        if question.kind == Question.Kind.CHOICE:
            return forms.ChoiceField(
                choices=[(option, option) for option in question.choices],
                widget=forms.RadioSelect,
                **common,
            )
        return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), **common)

    @property
    def rows(self) -> list[tuple[Question, forms.BoundField]]:
        return [(question, self[_field_name(question)]) for question in self.questions]

    def answers(self) -> dict[int, AnswerValue]:
        return {
            question.pk: self.cleaned_data.get(_field_name(question)) for question in self.questions
        }


class QuestionEditForm(forms.Form):
    text = forms.CharField(label=_("Domanda"), max_length=500)
    kind = forms.ChoiceField(
        label=_("Tipo"), choices=Question.Kind.choices, initial=Question.Kind.SCALE
    )
    required = forms.BooleanField(label=_("Obbligatoria"), required=False, initial=True)
    order = forms.IntegerField(label=_("Ordine"), min_value=1, max_value=999)
    choices = forms.CharField(
        label=_("Opzioni o etichette"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_(
            "Una per riga. Scelta singola: almeno due opzioni. Scala: cinque etichette, dal "
            "valore 1 al 5, oppure nessuna. Testo libero: vuoto."
        ),
    )

    def clean_choices(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data["choices"].splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        problem = get_options_problem(
            kind=data.get("kind") or "", choices=data.get("choices") or []
        )
        if problem is not None:
            self.add_error("choices", OPTIONS_HINTS[problem])
        return data

    def to_data(self) -> QuestionData:
        data = self.cleaned_data
        return QuestionData(
            text=data["text"],
            kind=data["kind"],
            required=data["required"],
            order=data["order"],
            choices=data["choices"],
        )


class BaseQuestionFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if not self.questions():
            raise forms.ValidationError(_("Il questionario deve avere almeno una domanda."))

    def questions(self) -> list[QuestionData]:
        # Existing questions count even when untouched; a blank extra row does not.
        return [
            form.to_data()
            for i, form in enumerate(self.forms)
            if (i < self.initial_form_count() or form.has_changed())
            and not self._should_delete_form(form)
        ]


QuestionFormSet = forms.formset_factory(
    QuestionEditForm, formset=BaseQuestionFormSet, extra=1, can_delete=True
)


def question_initial(questions: Sequence[Question]) -> list[dict[str, Any]]:
    return [
        {
            "text": q.text,
            "kind": q.kind,
            "required": q.required,
            "order": q.order,
            "choices": "\n".join(q.choices),
        }
        for q in questions
    ]


DATETIME_INPUT = "%Y-%m-%dT%H:%M"


class WindowForm(forms.Form):
    opens_at = forms.DateTimeField(
        label=_("Apertura"),
        required=False,
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
        help_text=_("Vuoto: dall'inizio dell'ultima giornata del corso."),
    )
    closes_at = forms.DateTimeField(
        label=_("Chiusura"),
        required=False,
        input_formats=[DATETIME_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_INPUT),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["closes_at"].help_text = ngettext(
            "Vuoto: %(days)s giorno dopo la fine dell'ultima giornata del corso.",
            "Vuoto: %(days)s giorni dopo la fine dell'ultima giornata del corso.",
            settings.QUESTIONNAIRE_CLOSES_AFTER_DAYS,
        ) % {"days": settings.QUESTIONNAIRE_CLOSES_AFTER_DAYS}
