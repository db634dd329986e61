"""The portal as an OpenID Connect relying party of an IAM proxy for SPID and CIE.

The proxy (e.g. iam-proxy-italia) speaks SPID and CIE to the identity providers and plain OpenID
Connect to us. Authlib does the protocol: discovery from OIDC_ISSUER, the authorization code
flow with PKCE (S256), state and nonce kept in the session and checked on return, and the ID
token's signature (keys from the provider's JWKS), issuer, audience, expiry and nonce. On top of
it we allow only the signature algorithms in OIDC_ID_TOKEN_ALGORITHMS, whatever the provider
advertises, and turn every failure into one `OidcError` with a message for the person.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from joserfc.errors import ExpiredTokenError, JoseError

logger = logging.getLogger(__name__)

METHODS = ("spid", "cie")
# Where the callback finds which button started the flow (kept with Authlib's own state data).
_STATE_METHOD_KEY = "oidc_method"


class OidcError(Exception):
    """A sign-in through the provider that cannot go on, with a message for the person."""

    def __init__(self, message: Any, *, reason: str) -> None:
        super().__init__(reason)
        self.message = message
        # A short technical label for the logs (never personal data).
        self.reason = reason


STATE_ERROR = _(
    "La richiesta di accesso è scaduta o non è partita da questo sito. Torna alla pagina di "
    "accesso e premi di nuovo il pulsante."
)
TOKEN_ERROR = _(
    "La risposta del servizio di identità non è valida (firma, destinatario o scadenza). Per "
    "sicurezza non ti abbiamo fatto accedere. Riprova; se il problema continua, contatta la "
    "segreteria."
)
EXPIRED_ERROR = _(
    "La risposta del servizio di identità è scaduta. Per sicurezza non ti abbiamo fatto "
    "accedere: riprova."
)
CANCELLED_ERROR = _("L'accesso è stato annullato o rifiutato dal servizio di identità.")
UNREACHABLE_ERROR = _(
    "Il servizio di accesso con SPID e CIE non risponde. Riprova più tardi oppure accedi con "
    "e-mail e password."
)


def is_enabled() -> bool:
    return bool(settings.OIDC_ISSUER)


def issuer() -> str:
    return str(settings.OIDC_ISSUER).rstrip("/")


_registry_lock = threading.Lock()
_clients: dict[tuple[str, str, str], Any] = {}


def _client() -> Any:
    """The Authlib client for the configured provider, one per process and configuration.

    Discovery and the provider's keys are fetched on first use and kept with the client; a
    token signed with a key id not seen yet makes Authlib fetch the keys again (key rotation).
    """
    key = (issuer(), settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET)
    with _registry_lock:
        client = _clients.get(key)
        if client is None:
            oauth = OAuth()
            client = oauth.register(
                name="oidc",
                client_id=settings.OIDC_CLIENT_ID,
                client_secret=settings.OIDC_CLIENT_SECRET,
                server_metadata_url=f"{issuer()}/.well-known/openid-configuration",
                client_kwargs={
                    "scope": settings.OIDC_SCOPES,
                    "code_challenge_method": "S256",
                    "token_endpoint_auth_method": settings.OIDC_TOKEN_ENDPOINT_AUTH_METHOD,
                    "timeout": settings.OIDC_TIMEOUT,
                },
            )
            _clients[key] = client
    return client


def _metadata() -> dict[str, Any]:
    """The provider's discovery document, with only the signature algorithms we accept."""
    client = _client()
    try:
        metadata = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise OidcError(UNREACHABLE_ERROR, reason=f"discovery: {type(exc).__name__}") from exc
    if metadata.get("issuer", "").rstrip("/") != issuer():
        # OpenID Connect Discovery 4.3: the document must name the issuer it was fetched from.
        raise OidcError(TOKEN_ERROR, reason="discovery: issuer mismatch")
    allowed = list(settings.OIDC_ID_TOKEN_ALGORITHMS)
    advertised = metadata.get("id_token_signing_alg_values_supported") or allowed
    # Authlib verifies the ID token with the algorithms listed here: never "none", never HMAC
    # with the client secret, only what we allow.
    metadata["id_token_signing_alg_values_supported"] = [a for a in advertised if a in allowed]
    return metadata


def form_action_origin() -> str:
    """The provider's origin, which the logout form may be redirected to (CSP form-action)."""
    parts = urlsplit(issuer())
    return f"{parts.scheme}://{parts.netloc}"


def _extra_authorize_params(method: str) -> dict[str, str]:
    params: dict[str, str] = {}
    if settings.OIDC_ACR_VALUES:
        params["acr_values"] = settings.OIDC_ACR_VALUES
    extra = (
        settings.OIDC_SPID_AUTHORIZE_PARAMS
        if method == "spid"
        else settings.OIDC_CIE_AUTHORIZE_PARAMS
    )
    params.update(dict(parse_qsl(extra)))
    return params


def start_login(request: HttpRequest, *, method: str, redirect_uri: str) -> HttpResponse:
    """Send the browser to the provider's authorization endpoint (state, nonce and PKCE)."""
    client = _client()
    _metadata()
    try:
        response = client.authorize_redirect(
            request, redirect_uri, **_extra_authorize_params(method)
        )
    except (requests.RequestException, RuntimeError) as exc:
        raise OidcError(UNREACHABLE_ERROR, reason=f"authorize: {type(exc).__name__}") from exc
    # Authlib keeps one entry per state in the session; note which button started it.
    state = dict(parse_qsl(urlsplit(response["Location"]).query)).get("state", "")
    request.session[f"{_STATE_METHOD_KEY}_{state}"] = method
    return response


@dataclass(frozen=True)
class OidcLogin:
    """What a successful return from the provider tells us."""

    issuer: str
    method: str
    claims: dict[str, Any]
    id_token: str


def finish_login(request: HttpRequest) -> OidcLogin:
    """Check the provider's answer and return the ID token's claims; OidcError otherwise.

    Authlib checks the state against the session (and forgets it: a code works once), sends the
    PKCE verifier with the code, then verifies the ID token: signature with the provider's keys
    and an allowed algorithm, `iss`, `aud` (our client id), `exp`/`iat` (OIDC_LEEWAY seconds of
    clock skew) and the nonce sent with the request.
    """
    client = _client()
    metadata = _metadata()
    state = request.GET.get("state", "")
    method = request.session.pop(f"{_STATE_METHOD_KEY}_{state}", "spid")
    try:
        token = client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "values": [metadata["issuer"]]},
                "aud": {"essential": True, "values": [settings.OIDC_CLIENT_ID]},
                "exp": {"essential": True},
            },
            leeway=settings.OIDC_LEEWAY,
        )
    except MismatchingStateError as exc:
        raise OidcError(STATE_ERROR, reason="state") from exc
    except OAuthError as exc:
        # The provider's own error (access_denied, invalid_grant...), sent back or from the
        # token endpoint.
        raise OidcError(CANCELLED_ERROR, reason=f"provider: {exc.error}") from exc
    except ExpiredTokenError as exc:
        raise OidcError(EXPIRED_ERROR, reason="id token expired") from exc
    except (JoseError, AuthlibBaseError, ValueError) as exc:
        raise OidcError(TOKEN_ERROR, reason=f"id token: {type(exc).__name__}: {exc}") from exc
    except requests.RequestException as exc:
        raise OidcError(UNREACHABLE_ERROR, reason=f"token: {type(exc).__name__}") from exc
    claims = token.get("userinfo")
    if not claims:
        # No ID token (or no nonce in our state): a plain OAuth answer identifies nobody.
        raise OidcError(TOKEN_ERROR, reason="no id token")
    return OidcLogin(
        issuer=issuer(), method=method, claims=dict(claims), id_token=token["id_token"]
    )


def logout_url(*, id_token: str, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout), or None if it has none."""
    try:
        metadata = _metadata()
    except OidcError:
        return None
    if not metadata.get("end_session_endpoint"):
        return None
    result = _client().create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri,
        id_token_hint=id_token,
        client_id=settings.OIDC_CLIENT_ID,
    )
    return str(result["url"])
