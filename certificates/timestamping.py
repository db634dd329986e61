"""RFC 3161 time-stamp client: asks a TSA for a token over some bytes (a signature value).

Request and response are asn1crypto's tsp structures, sent over HTTP with urllib (RFC 3161
section 3.4): no Django dependency, like certificates.signing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.error
import urllib.request

from asn1crypto import cms, tsp

__all__ = ["TSAUnreachable", "TimestampError", "request_timestamp"]


class TimestampError(Exception):
    """The TSA did not answer, refused, or answered with something that is not our token."""


class TSAUnreachable(TimestampError):
    """No answer over HTTP: refused connection, time-out, an HTTP error status."""


def request_timestamp(
    data: bytes,
    *,
    url: str,
    username: str = "",
    password: str = "",
    timeout: float = 10.0,
) -> bytes:
    """A DER TimeStampToken (a ContentInfo) whose message imprint is SHA-256(``data``)."""
    digest = hashlib.sha256(data).digest()
    nonce = secrets.randbits(63)
    request = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256", "parameters": None},
                "hashed_message": digest,
            },
            "nonce": nonce,
            # The TSA's certificate inside the token: verifiers need it, years from now.
            "cert_req": True,
        }
    )
    headers = {"Content-Type": "application/timestamp-query"}
    if username:
        credentials = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {credentials}"
    if not url.lower().startswith(("http://", "https://")):
        raise TimestampError(f"the TSA address must be http(s): {url!r}")
    # The scheme is checked just above.
    http_request = urllib.request.Request(  # noqa: S310
        url, data=request.dump(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as http_response:  # noqa: S310
            body = http_response.read()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise TSAUnreachable(f"the TSA at {url} did not answer: {exc}") from exc
    try:
        response = tsp.TimeStampResp.load(body)
        status = response["status"]["status"].native
        if status not in ("granted", "granted_with_mods"):
            raise TimestampError(f"the TSA refused the request: {status}")
        token = response["time_stamp_token"]
        if not isinstance(token, cms.ContentInfo) or token["content_type"].native != "signed_data":
            raise TimestampError("the TSA's answer carries no time-stamp token")
        tst_info = token["content"]["encap_content_info"]["content"].parsed
        imprint = tst_info["message_imprint"]
        if imprint["hashed_message"].native != digest or tst_info["nonce"].native != nonce:
            # Someone else's token (or a replay): it would not prove anything about our data.
            raise TimestampError("the TSA's token is not over the data we sent")
        return token.dump()
    except TimestampError:
        raise
    except Exception as exc:  # normalise asn1crypto's assorted exceptions
        raise TimestampError(f"malformed answer from the TSA: {exc}") from exc
