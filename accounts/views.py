from __future__ import annotations

import logging

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
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

from accounts import oidc
from accounts import two_factor as two_factor_devices
from accounts.forms import ActivationForm, LoginForm, OidcLinkForm, ProfileForm, SignupForm
from accounts.models import User
from accounts.services import (
    AccountError,
    OidcPerson,
    activate_user,
    get_or_create_profile,
    get_user_to_activate,
    link_oidc_identity,
    person_from_claims,
    register_user,
    send_activation_again,
    sign_in_with_oidc,
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


logger = logging.getLogger(__name__)

# Session keys of a SPID/CIE sign-in: the ID token (the logout's id_token_hint), where to go
# afterwards, and the account waiting for its password before the identity is linked.
OIDC_HINT_SESSION_KEY = "oidc_id_token"
OIDC_NEXT_KEY = "oidc_next"
OIDC_PENDING_KEY = "oidc_pending_link"


@method_decorator(limit_login_failures_per_address, name="dispatch")
class LoginView(auth_views.LoginView):
    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        oidc_enabled = oidc.is_enabled()
        context |= {
            "oidc_enabled": oidc_enabled,
            # Without SPID/CIE the form is the only way in, whatever the setting says.
            "password_login": settings.PASSWORD_LOGIN_ENABLED or not oidc_enabled,
            "show_password_form": settings.PASSWORD_LOGIN_ENABLED
            or not oidc_enabled
            or self.request.method == "POST"
            or "password" in self.request.GET,
        }
        return context


class LogoutView(auth_views.LogoutView):
    """Sign out here, then at the provider too when the session came from SPID or CIE."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        id_token = request.session.get(OIDC_HINT_SESSION_KEY)
        response = super().post(request, *args, **kwargs)
        if id_token and oidc.is_enabled():
            url = oidc.logout_url(
                id_token=id_token,
                post_logout_redirect_uri=request.build_absolute_uri(
                    resolve_url(settings.LOGOUT_REDIRECT_URL)
                ),
            )
            if url:
                return HttpResponseRedirect(url)
        return response


@ratelimit(key="ip", rate="10/h", method="POST", block=True)
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("courses:catalogue")
    if not settings.PASSWORD_LOGIN_ENABLED and oidc.is_enabled():
        messages.info(request, _("Per accedere ai corsi entra con SPID o CIE."))
        return redirect("accounts:login")
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
            "verified_by": instance.get_verified_by_display() if instance.verified_by else "",
            "verified_at": instance.verified_at,
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


# --- SPID and CIE (accounts/oidc.py) ---


def _oidc_error(request: HttpRequest, message: object, *, status: int = 400) -> HttpResponse:
    return render(request, "accounts/oidc_error.html", {"message": message}, status=status)


@never_cache
@require_http_methods(["GET", "HEAD"])
def oidc_login(request: HttpRequest, method: str) -> HttpResponse:
    """The "Entra con SPID/CIE" buttons: off to the provider, with state, nonce and PKCE."""
    if not oidc.is_enabled() or method not in oidc.METHODS:
        raise Http404
    request.session[OIDC_NEXT_KEY] = _safe_next(request, "")
    try:
        return oidc.start_login(
            request,
            method=method,
            redirect_uri=request.build_absolute_uri(reverse("accounts:oidc_callback")),
        )
    except oidc.OidcError as exc:
        logger.warning("SPID/CIE sign-in could not start: %s", exc.reason)
        return _oidc_error(request, exc.message, status=502)


def _sign_in(
    request: HttpRequest, *, user: User, id_token: str, next_url: str, created: bool
) -> HttpResponse:
    login(request, user, backend="accounts.backends.CachedModelBackend")
    # Kept for the logout at the provider (id_token_hint).
    request.session[OIDC_HINT_SESSION_KEY] = id_token
    profile = get_or_create_profile(user)
    if created or not profile.is_complete:
        messages.success(
            request,
            _(
                "Accesso effettuato con la tua identità digitale. Completa il profilo per "
                "poterti iscrivere ai corsi."
            ),
        )
        profile_url = reverse("accounts:profile")
        return redirect(
            f"{profile_url}?{urlencode({'next': next_url})}" if next_url else profile_url
        )
    return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))


@never_cache
@require_http_methods(["GET", "HEAD"])
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the browser back with a code: nothing is kept unless all checks pass."""
    if not oidc.is_enabled():
        raise Http404
    try:
        result = oidc.finish_login(request)
        person = person_from_claims(result.claims)
        outcome = sign_in_with_oidc(issuer=result.issuer, method=result.method, person=person)
    except oidc.OidcError as exc:
        logger.warning("SPID/CIE sign-in refused: %s", exc.reason)
        return _oidc_error(
            request, exc.message, status=502 if exc.message is oidc.UNREACHABLE_ERROR else 400
        )
    except AccountError as exc:
        logger.info("SPID/CIE sign-in refused by the account rules")
        return _oidc_error(request, exc.message)
    next_url = request.session.pop(OIDC_NEXT_KEY, "")
    if outcome.link_to is not None:
        request.session[OIDC_PENDING_KEY] = {
            "user_id": outcome.link_to.pk,
            "issuer": result.issuer,
            "method": result.method,
            "id_token": result.id_token,
            "person": person.as_session(),
            "next": next_url,
        }
        return redirect("accounts:oidc_link")
    assert outcome.user is not None
    return _sign_in(
        request,
        user=outcome.user,
        id_token=result.id_token,
        next_url=next_url,
        created=outcome.created,
    )


def _masked_email(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:1]}{'•' * max(1, len(local) - 1)}@{domain}"


@never_cache
@limit_login_failures_per_address
@require_http_methods(["GET", "HEAD", "POST"])
def oidc_link(request: HttpRequest) -> HttpResponse:
    """An account exists for this person: its password, once, before SPID/CIE is linked to it.

    The password check goes through authenticate(), so django-axes and the per-address limit
    count and lock out failures here exactly as on the login page.
    """
    pending = request.session.get(OIDC_PENDING_KEY)
    target = User.objects.filter(pk=pending["user_id"]).first() if pending else None
    if pending is None or target is None:
        messages.error(request, _("Nessun accesso con SPID o CIE in corso: riprova."))
        return redirect("accounts:login")
    form = OidcLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = authenticate(request, username=target.email, password=form.cleaned_data["password"])
        if user is None or user.pk != target.pk:
            form.add_error("password", _("La password non è corretta."))
        else:
            person = OidcPerson(**pending["person"])
            try:
                user = link_oidc_identity(
                    user=user, issuer=pending["issuer"], method=pending["method"], person=person
                )
            except AccountError as exc:
                del request.session[OIDC_PENDING_KEY]
                return _oidc_error(request, exc.message)
            del request.session[OIDC_PENDING_KEY]
            messages.success(request, _("Identità digitale collegata al tuo account."))
            return _sign_in(
                request,
                user=user,
                id_token=pending["id_token"],
                next_url=pending["next"],
                created=False,
            )
    return render(
        request,
        "accounts/oidc_link.html",
        {"form": form, "email": _masked_email(target.email)},
    )
