from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm, SetPasswordMixin
from django.utils.translation import gettext_lazy as _

from accounts.models import PROFILE_FIELDS, Profession, Profile
from accounts.validators import normalise_codice_fiscale, validate_codice_fiscale
from core.permissions import is_secretariat


class LoginForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("Indirizzo e-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if not settings.PASSWORD_LOGIN_ENABLED and not is_secretariat(user):
            # Participants sign in with SPID or CIE; the form stays for the secretariat.
            raise forms.ValidationError(
                _("I partecipanti accedono con SPID o CIE: usa i pulsanti qui sopra."),
                code="password_login_disabled",
            )


class OidcLinkForm(forms.Form):
    """The password of an existing account, confirmed once before SPID/CIE is linked to it."""

    password = forms.CharField(
        label=_("Password dell'account esistente"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )


class SignupForm(forms.Form):
    first_name = forms.CharField(
        label=_("Nome"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Cognome"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = forms.EmailField(
        label=_("Indirizzo e-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Almeno 8 caratteri, non solo numeri, non troppo simile ai tuoi dati."),
    )
    password2 = forms.CharField(
        label=_("Ripeti la password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    # The legal basis is the public body's task (art. 6(1)(e) GDPR): signing up needs no consent.
    # Consent is asked only for what is optional.
    news_opt_in = forms.BooleanField(
        label=_("Desidero ricevere e-mail sui nuovi corsi (facoltativo)"),
        required=False,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("Le due password non coincidono."))
        elif p1:
            from accounts.models import User

            probe = User(
                email=data.get("email", ""),
                first_name=data.get("first_name", ""),
                last_name=data.get("last_name", ""),
            )
            try:
                password_validation.validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ActivationForm(SetPasswordForm):
    """The activation page's password: the one chosen at sign-up again, or a new one."""

    new_password1, new_password2 = SetPasswordMixin.create_password_fields(
        label1=_("Password"), label2=_("Ripeti la password")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = SignupForm.base_fields["password1"].help_text
        self.fields["new_password2"].help_text = ""
        self.error_messages = {
            **self.error_messages,
            "password_mismatch": _("Le due password non coincidono."),
        }


class ProfileForm(forms.ModelForm):
    first_name = forms.CharField(
        label=_("Nome"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Cognome"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )

    class Meta:
        model = Profile
        fields = list(PROFILE_FIELDS)
        widgets = {
            "codice_fiscale": forms.TextInput(
                attrs={"autocomplete": "off", "style": "text-transform: uppercase"}
            ),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
            "organisation": forms.TextInput(attrs={"autocomplete": "organization"}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = self.instance.user
        self.fields["first_name"].initial = user.first_name
        self.fields["last_name"].initial = user.last_name
        for name in Profile.REQUIRED_FOR_ENROLMENT:
            self.fields[name].required = True
        self.order_fields(["first_name", "last_name", *self.Meta.fields])
        # What SPID or CIE vouched for is shown but not editable; a disabled field also ignores
        # whatever is posted for it (and update_profile() keeps the verified value anyway).
        for name in self.instance.verified_fields:
            if name in self.fields:
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Dato verificato con SPID o CIE.")

    def clean_codice_fiscale(self) -> str:
        value = normalise_codice_fiscale(self.cleaned_data.get("codice_fiscale", ""))
        validate_codice_fiscale(value)
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("profession") == Profession.OTHER and not data.get("profession_other"):
            self.add_error("profession_other", _("Indica la tua professione."))
        return data
