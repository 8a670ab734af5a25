"""What a Conductor server's answer means, read without trusting it: the message of an error, its
validation errors, Retry-After, what came back instead of JSON, a definition unusable as listed, and
whether a connection failed in the TLS handshake (`idflow.conductor.client` maps these onto errors)."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx


def describe(answer: Any) -> str:
    """What came back instead, without quoting it (it may be a whole page)."""
    if answer is None:
        return "an empty body"
    if isinstance(answer, str):
        kind = "an HTML page" if answer.lstrip()[:1] == "<" else "text"
        return f"{kind} of {len(answer)} characters"
    return f"a JSON {type(answer).__name__}"


def shape_problem(item: dict[str, Any]) -> str | None:
    """What makes a definition unusable (nothing: None). Other fields are normalised or carried over."""
    name = item.get("name")
    if not isinstance(name, str) or not name:
        return f"has no name (name: {json.dumps(name)[:40]})"
    if not isinstance(item.get("description"), (str, type(None))):
        return f"({name[:80]}) has a description that is not a string"
    return None


def tls_failure(exc: BaseException) -> tuple[str, str] | None:
    """(what failed, what to do) if the connection failed in the TLS handshake."""
    import ssl

    seen: BaseException | None = exc
    while seen is not None and not isinstance(seen, ssl.SSLError):
        seen = seen.__cause__ or seen.__context__
    if seen is None:
        return None
    if isinstance(seen, ssl.SSLCertVerificationError):
        return (f"the server's certificate is not trusted ({seen.verify_message})",
                "install the CA that signed it (SSL_CERT_FILE), or pass --insecure to skip verification "
                "(only if you accept the risk)")
    return (f"no TLS handshake ({seen.reason or type(seen).__name__})",
            "if the server speaks plain HTTP, use an http:// URL; idflow never downgrades on its own")


def server_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return response.text.strip() or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or response.reason_phrase)
    return response.reason_phrase


def validation_errors(response: httpx.Response) -> list[str]:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        return []
    errors = body.get("validationErrors") if isinstance(body, dict) else None
    return [str(e.get("message", e)) for e in errors if isinstance(e, dict)] if isinstance(errors, list) else []


def retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
