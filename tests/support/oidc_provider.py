"""A small OpenID Connect provider for the tests, run as a real HTTP process, that can misbehave.

    python -m tests.support.oidc_provider DIRECTORY PORT CLIENT_ID CLIENT_SECRET

It serves discovery, JWKS, an authorization endpoint that approves at once (no sign-in page),
a token endpoint that checks the client's secret, the code, the redirect URI and the PKCE
verifier (S256), and an end-session endpoint. POST /_control {"mode": ..., "person": {...}}
sets how the next sign-ins go; GET /_last says what the provider last received. Modes:

- ``good``: a correct RS256 ID token with the person's SPID-like claims;
- ``wrong_aud``, ``wrong_issuer``, ``wrong_nonce``, ``expired``: one claim wrong, still signed;
- ``unsigned`` (``alg: none``), ``bad_signature`` (signed with a key not in the JWKS), ``hs256``
  (HMAC with the client secret): signatures the portal must refuse;
- ``no_id_token``: a plain OAuth answer; ``access_denied``: the person cancels at the provider.

It writes ``ready`` in DIRECTORY once it listens. Built on joserfc, which Authlib itself uses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

MODES = {
    "good",
    "wrong_aud",
    "wrong_issuer",
    "wrong_nonce",
    "expired",
    "unsigned",
    "bad_signature",
    "hs256",
    "no_id_token",
    "access_denied",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class Provider:
    def __init__(self, issuer: str, client_id: str, client_secret: str) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.key = RSAKey.generate_key(2048, parameters={"kid": "good", "use": "sig"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "good", "use": "sig"})
        self.mode = "good"
        self.person: dict[str, Any] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.last: dict[str, Any] = {}
        self.lock = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "end_session_endpoint": f"{self.issuer}/end_session",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            # Advertises more than it should: the portal must keep to its own allow-list.
            "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        }

    def id_token(self, *, nonce: str, mode: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.person.get("sub", "spid-subject-1"),
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "acr": "https://www.spid.gov.it/SpidL2",
            **{k: v for k, v in self.person.items() if k != "sub"},
        }
        if mode == "wrong_aud":
            claims["aud"] = "someone-else"
        elif mode == "wrong_issuer":
            claims["iss"] = "https://evil.example.org"
        elif mode == "wrong_nonce":
            claims["nonce"] = "not-the-nonce"
        elif mode == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 1800
        if mode == "unsigned":
            header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
            return f"{header}.{_b64(json.dumps(claims).encode())}."
        if mode == "hs256":
            secret = OctKey.import_key(self.client_secret.encode())
            return jwt.encode({"alg": "HS256"}, claims, secret)
        key = self.other_key if mode == "bad_signature" else self.key
        return jwt.encode({"alg": "RS256", "kid": "good"}, claims, key)


class Handler(BaseHTTPRequestHandler):
    provider: Provider

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _json(self, data: Any, status: int = 200) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        p = self.provider
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/.well-known/openid-configuration":
            self._json(p.metadata())
        elif url.path == "/jwks":
            self._json({"keys": [p.key.as_dict(private=False)]})
        elif url.path == "/_last":
            self._json(p.last)
        elif url.path == "/authorize":
            with p.lock:
                p.last = {"authorize": query}
                mode = p.mode
            if query.get("client_id") != p.client_id or query.get("response_type") != "code":
                self._json({"error": "invalid_request"}, 400)
                return
            target = query["redirect_uri"]
            if mode == "access_denied":
                params = {"error": "access_denied", "state": query.get("state", "")}
            else:
                code = secrets.token_urlsafe(16)
                with p.lock:
                    p.codes[code] = query
                params = {"code": code, "state": query.get("state", "")}
            self._redirect(f"{target}?{urlencode(params)}")
        elif url.path == "/end_session":
            with p.lock:
                p.last = {"end_session": query}
            self._redirect(query.get("post_logout_redirect_uri", "/"))
        else:
            self._json({"error": "not_found"}, 404)

    def do_POST(self) -> None:
        p = self.provider
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode()
        url = urlsplit(self.path)
        if url.path == "/_control":
            data = json.loads(raw or "{}")
            if data.get("mode", "good") not in MODES:
                self._json({"error": "unknown mode"}, 400)
                return
            with p.lock:
                p.mode = data.get("mode", "good")
                p.person = data.get("person", p.person)
            self._json({"ok": True})
            return
        if url.path != "/token":
            self._json({"error": "not_found"}, 404)
            return
        form = {k: v[0] for k, v in parse_qs(raw).items()}
        expected = base64.b64encode(f"{p.client_id}:{p.client_secret}".encode()).decode()
        if self.headers.get("Authorization") != f"Basic {expected}":
            self._json({"error": "invalid_client"}, 401)
            return
        with p.lock:
            request = p.codes.pop(form.get("code", ""), None)
            mode = p.mode
            p.last = {**p.last, "token": form}
        if request is None or form.get("redirect_uri") != request["redirect_uri"]:
            self._json({"error": "invalid_grant"}, 400)
            return
        verifier = form.get("code_verifier", "")
        challenge = _b64(hashlib.sha256(verifier.encode()).digest())
        if request.get("code_challenge_method") != "S256" or challenge != request.get(
            "code_challenge"
        ):
            self._json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
            return
        answer: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
        }
        if mode != "no_id_token":
            answer["id_token"] = p.id_token(nonce=request.get("nonce", ""), mode=mode)
        self._json(answer)


def main() -> None:
    directory, port, client_id, client_secret = sys.argv[1:5]
    issuer = f"http://127.0.0.1:{port}"
    Handler.provider = Provider(issuer, client_id, client_secret)
    server = ThreadingHTTPServer(("127.0.0.1", int(port)), Handler)
    (Path(directory) / "ready").write_text(issuer)
    server.serve_forever()


if __name__ == "__main__":
    main()
