from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from attendance.imports import ALLOWED_EXTENSIONS, MAX_UPLOAD_BYTES
from attendance.models import Attendance
from attendance.services import (
    AttendanceError,
    RegisterRow,
    validate_attendance_target,
    validate_attendance_values,
)
from courses.models import Session

TIME_INPUT_FORMATS = ["%H:%M", "%H.%M", "%H:%M:%S"]


class Mode:
    NONE = ""
    FULL = "full"
    ABSENT = "absent"
    TIMES = "times"
    MINUTES = "minutes"


MODE_CHOICES = [
    (Mode.NONE, _("Non indicata")),
    (Mode.FULL, _("Presente intera sessione")),
    (Mode.ABSENT, _("Assente")),
    (Mode.TIMES, _("Orari")),
    (Mode.MINUTES, _("Minuti")),
]


def initial_mode(attendance: Attendance | None, session: Session) -> str:
    if attendance is None:
        return Mode.NONE
    if attendance.entry is not None:
        return Mode.TIMES
    if attendance.minutes == session.minutes:
        return Mode.FULL
    if attendance.minutes == 0:
        return Mode.ABSENT
    return Mode.MINUTES


def _input_html(widget: dict[str, Any]) -> str:
    """Django's input.html (and attrs.html), written out in Python."""
    html = [
        format_html('<input type="{}" name="{}"', widget["type"], widget["name"]),
        format_html(' value="{}"', widget["value"]) if widget["value"] is not None else "",
    ]
    for name, value in widget["attrs"].items():
        if value is True:
            html.append(format_html(" {}", name))
        elif value is not False:
            html.append(format_html(' {}="{}"', name, value))
    return mark_safe("".join(html) + ">")  # noqa: S308 - every part escaped by format_html


class _PlainInput:
    """Renders a bare <input> without going through a template.

    A register has hundreds of inputs (five radios and three fields per participant) and
    Django renders each through its own template: that was most of the page's time. Anything
    other than a bare input (a label wrapped around it) still goes through the template.
    """

    def _render(self, template_name: str, context: dict[str, Any], renderer: Any = None) -> str:
        widget = context["widget"]
        if widget.get("wrap_label") or template_name not in _PLAIN_TEMPLATES:
            return super()._render(template_name, context, renderer)  # type: ignore[misc]
        return _input_html(widget)


_PLAIN_TEMPLATES = {
    "django/forms/widgets/radio_option.html",
    "django/forms/widgets/time.html",
    "django/forms/widgets/number.html",
}


class _PlainRadioSelect(_PlainInput, forms.RadioSelect):
    pass


class _PlainTimeInput(_PlainInput, forms.TimeInput):
    pass


class _PlainNumberInput(_PlainInput, forms.NumberInput):
    pass


class RegisterRowForm(forms.Form):
    """One participant's line of a session register: its shape only; rules are in the service."""

    mode = forms.ChoiceField(
        label=_("Presenza"), choices=MODE_CHOICES, required=False, widget=_PlainRadioSelect
    )
    entry = forms.TimeField(
        label=_("Entrata"),
        required=False,
        input_formats=TIME_INPUT_FORMATS,
        widget=_PlainTimeInput(format="%H:%M", attrs={"type": "time"}),
    )
    exit = forms.TimeField(
        label=_("Uscita"),
        required=False,
        input_formats=TIME_INPUT_FORMATS,
        widget=_PlainTimeInput(format="%H:%M", attrs={"type": "time"}),
    )
    minutes = forms.IntegerField(
        label=_("Minuti"), required=False, min_value=0, widget=_PlainNumberInput
    )

    # The participant and what is recorded, for the template (a RegisterEntry).
    register_entry: Any = None

    def __init__(self, *args: Any, session: Session, enrollment_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session
        self.enrollment_id = enrollment_id
        self.fields["minutes"].widget.attrs.update({"max": session.minutes, "inputmode": "numeric"})
        for name in ("entry", "exit", "minutes"):
            self.fields[name].widget.attrs.update(
                {"class": "form-control form-control-sm", "aria-describedby": self.error_id}
            )

    @property
    def error_id(self) -> str:
        return f"{self.prefix}-errors"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        mode = data.get("mode") or Mode.NONE
        entry, exit_, minutes = data.get("entry"), data.get("exit"), data.get("minutes")
        if self.errors:
            return data
        if mode == Mode.NONE:
            # Typing times or minutes is enough: the choice is inferred.
            if entry or exit_:
                mode = Mode.TIMES
            elif minutes is not None:
                mode = Mode.MINUTES
        row: RegisterRow | None = None
        if mode == Mode.FULL:
            row = RegisterRow(self.enrollment_id, minutes=self.session.minutes)
        elif mode == Mode.ABSENT:
            row = RegisterRow(self.enrollment_id, minutes=0)
        elif mode == Mode.TIMES:
            # Both times, and no minutes besides: the service's own rule.
            self._validate(minutes=minutes, entry=entry or None, exit_=exit_ or None)
            row = RegisterRow(self.enrollment_id, entry=entry, exit=exit_)
        elif mode == Mode.MINUTES:
            self._validate(minutes=minutes, entry=None, exit_=None)
            row = RegisterRow(self.enrollment_id, minutes=minutes)
        data["row"] = row
        return data

    def _validate(self, *, minutes: int | None, entry: Any, exit_: Any) -> None:
        try:
            validate_attendance_values(
                session=self.session, minutes=minutes, entry=entry, exit=exit_
            )
        except AttendanceError as exc:
            raise forms.ValidationError(exc.message) from exc


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File delle presenze (.csv o .xlsx) o report della riunione online"),
        help_text=_(
            "Al massimo 2 MB. La prima riga contiene i nomi delle colonne; i report di "
            "Microsoft Teams, Zoom e Google Meet si caricano così come scaricati."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_EXTENSIONS)}),
    )
    date = forms.DateField(
        label=_("Data della giornata (solo per un report di riunione online)"),
        help_text=_(
            "Necessaria se il report indica solo gli orari (Google Meet); le righe di altre "
            "date sono rifiutate."
        ),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(ALLOWED_EXTENSIONS):
            raise forms.ValidationError(_("Sono accettati solo file .csv o .xlsx."))
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("Il file supera la dimensione massima di %(mb)d MB."),
                params={"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            )
        return upload


class AttendanceAdminForm(forms.ModelForm):
    """Admin edits: checked by the service's own rules before the service saves them."""

    class Meta:
        model = Attendance
        fields = ["enrollment", "session", "minutes", "entry", "exit"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Minutes are derived when times are given.
        if "minutes" in self.fields:
            self.fields["minutes"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        enrollment = data.get("enrollment") or self.instance_enrollment()
        session = data.get("session") or self.instance_session()
        if enrollment is None or session is None:
            return data
        entry, exit_ = data.get("entry"), data.get("exit")
        minutes = None if (entry or exit_) else data.get("minutes")
        try:
            values = validate_attendance_values(
                session=session, minutes=minutes, entry=entry, exit=exit_
            )
            validate_attendance_target(
                status=enrollment.status, course_id=enrollment.course_id, session=session
            )
        except AttendanceError as exc:
            raise forms.ValidationError(exc.message) from exc
        data["minutes"] = values.minutes
        return data

    def instance_enrollment(self) -> Any:
        return self.instance.enrollment if self.instance.pk else None

    def instance_session(self) -> Any:
        return self.instance.session if self.instance.pk else None


class ScanForm(forms.Form):
    """One scan sent by the scanning page (its JSON body): now, or later from its queue.

    The kinds and the time are checked by attendance.scans, which says why it refuses.
    """

    token = forms.CharField(max_length=500)
    kind = forms.CharField(max_length=8)
    nonce = forms.UUIDField()
    # ISO 8601 with its offset, as the browser's Date.toISOString() writes it.
    scanned_at = forms.DateTimeField()


class ManualScanForm(forms.Form):
    """Entry or exit by hand, for someone found by surname or codice fiscale."""

    enrollment = forms.IntegerField()
    kind = forms.CharField(max_length=8)
    nonce = forms.UUIDField()
    q = forms.CharField(max_length=50, required=False)


class ConfirmExitForm(forms.Form):
    scan = forms.IntegerField()
