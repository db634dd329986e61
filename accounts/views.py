from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_ratelimit.decorators import ratelimit

from accounts import two_factor as two_factor_devices
from accounts.forms import ActivationForm, LoginForm, ProfileForm, SignupForm
from accounts.services import (
    AccountError,
    activate_user,
    get_or_create_profile,
    get_user_to_activate,
    register_user,
    send_activation_again,
    update_profile,
)
from accounts.throttling import limit_login_failures_per_address
from core.permissions import is_secretariat, two_factor_redirect


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@method_decorator(limit_login_failures_per_address, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


@ratelimit(key="ip", rate="10/h", method="POST", block=True)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("courses:catalogue")
    form = SignupForm(request.POST or None)
    next_url = _safe_next(request, "")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        # The same answer whether or not the address is registered: see register_user().
        register_user(
            email=data["email"],
            password=data["password1"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            language=get_language() or "it",
            next_url=next_url,
            news_opt_in=data["news_opt_in"],
        )
        return redirect("accounts:signup_done")
    return render(request, "accounts/signup.html", {"form": form, "next": next_url})


def signup_done(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signup_done.html")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def activate(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The sign-up e-mail's link: a page whose button activates (mail scanners only GET it).

    The person chooses the password there, then is signed in and asked for the profile.
    """
    try:
        user = get_user_to_activate(uidb64=uidb64, token=token)
    except AccountError as exc:
        messages.error(request, exc.message)
        return redirect("accounts:login")
    form = ActivationForm(user, request.POST if request.method == "POST" else None)
    next_url = _safe_next(request, "")
    if request.method == "POST" and form.is_valid():
        try:
            user = activate_user(
                uidb64=uidb64, token=token, password=form.cleaned_data["new_password1"]
            )
        except AccountError as exc:
            messages.error(request, exc.message)
            return redirect("accounts:login")
        login(request, user, backend="accounts.backends.CachedModelBackend")
        messages.success(
            request, _("Indirizzo confermato. Completa il profilo per poterti iscrivere ai corsi.")
        )
        profile_url = reverse("accounts:profile")
        return redirect(
            f"{profile_url}?{urlencode({'next': next_url})}" if next_url else profile_url
        )
    return render(
        request, "accounts/activate.html", {"form": form, "next": next_url, "email": user.email}
    )


class PasswordResetView(auth_views.PasswordResetView):
    """Password reset; an account never activated gets its activation link instead."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        send_activation_again(email=form.cleaned_data["email"])
        return super().form_valid(form)


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    instance = get_or_create_profile(request.user)
    form = ProfileForm(request.POST or None, instance=instance)
    next_url = _safe_next(request, "")
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            update_profile(user=request.user, **data)
        except AccountError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, _("Profilo salvato."))
            return redirect(next_url or "accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {
            "form": form,
            "next": next_url,
            "profile_complete": instance.is_complete,
            "has_second_factor": is_secretariat(request.user),
        },
    )


class TwoFactorForm(forms.Form):
    token = forms.CharField(
        label=_l("Codice a 6 cifre dell'app di autenticazione, oppure un codice di riserva"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


BACKUP_CODES_SESSION_KEY = "two_factor_new_backup_codes"


def _backup_codes_url(next_url: str) -> str:
    return f"{reverse('accounts:backup_codes')}?{urlencode({'next': next_url})}"


@login_required
@ratelimit(key="user", rate="10/m", method="POST", block=True)
def two_factor(request: HttpRequest) -> HttpResponse:
    """The secretariat: set up the authenticator app on first use, then confirm each session."""
    next_url = _safe_next(request, resolve_url(settings.SECRETARIAT_HOME_URL))
    if not is_secretariat(request.user):
        return redirect(next_url)
    form = TwoFactorForm(request.POST or None)
    setup = not two_factor_devices.has_confirmed_device(request.user)
    device = two_factor_devices.get_or_create_pending_device(request.user) if setup else None
    if request.method == "POST" and form.is_valid():
        token = form.cleaned_data["token"]
        if setup:
            verified = (
                device if two_factor_devices.confirm_device(device=device, token=token) else None
            )
        else:
            verified = two_factor_devices.match_confirmed_device(user=request.user, token=token)
        if verified is not None:
            otp_login(request, verified)
            left = two_factor_devices.count_backup_codes(request.user)
            if left == 0:
                # At set-up, for an app set up before backup codes existed, or once the last
                # code is used: new codes, shown once on the next page.
                request.session[BACKUP_CODES_SESSION_KEY] = (
                    two_factor_devices.regenerate_backup_codes(user=request.user)
                )
                return redirect(_backup_codes_url(next_url))
            if two_factor_devices.is_backup_device(verified):
                messages.warning(
                    request,
                    ngettext(
                        "Hai usato un codice di riserva: te ne resta %(count)d.",
                        "Hai usato un codice di riserva: te ne restano %(count)d.",
                        left,
                    )
                    % {"count": left},
                )
            return redirect(next_url)
        form.add_error("token", _("Il codice non è corretto o è scaduto. Riprova."))
    context = {"form": form, "next": next_url, "setup": setup}
    if setup:
        context |= {
            "qr": two_factor_devices.qr_data_uri(device),
            "secret": two_factor_devices.secret_base32(device),
        }
    return render(request, "accounts/two_factor.html", context)


@never_cache  # the codes must not stay in a browser's or a proxy's cache
@login_required
@ratelimit(key="user", rate="10/m", method="POST", block=True)
@require_http_methods(["GET", "HEAD", "POST"])
def backup_codes(request: HttpRequest) -> HttpResponse:
    """New backup codes, shown once; a button replaces them all (the old ones stop working)."""
    if not is_secretariat(request.user):
        raise PermissionDenied
    if not request.user.is_verified():
        # Only a session confirmed with a second factor may see or replace the codes.
        return two_factor_redirect(request)
    next_url = _safe_next(request, resolve_url(settings.SECRETARIAT_HOME_URL))
    if request.method == "POST":
        request.session[BACKUP_CODES_SESSION_KEY] = two_factor_devices.regenerate_backup_codes(
            user=request.user
        )
        return redirect(_backup_codes_url(next_url))
    codes = request.session.pop(BACKUP_CODES_SESSION_KEY, [])
    return render(
        request,
        "accounts/backup_codes.html",
        {
            "codes": codes,
            "remaining": two_factor_devices.count_backup_codes(request.user),
            "next": next_url,
        },
    )
