"""HTTP/1.1 over the standard library, for a plain `http://` server URL without a proxy.

Importing httpx and building its client (with an SSL context it never uses on such a URL) costs
more than the one GET of a no-op upload. This speaks the part of httpx's `Client` the Conductor
client uses (`request`, `close`, the answer's `status_code`, `content`, `headers`, `text`, `json()`,
`reason_phrase`), raises errors named as httpx names them (`ConnectError`, `TimeoutException`, ...),
and keeps connections open between requests. https, a proxy from the environment, credentials in
the URL or a test's transport: httpx (`ConductorClient` decides).
"""
from __future__ import annotations

import http.client
import json as jsonlib
import select
import socket
import sys
import threading
from typing import Any
from urllib.parse import urlencode, urlsplit
from urllib.request import getproxies


class TransportError(Exception):
    pass


class TimeoutException(TransportError):
    pass


class NetworkError(TransportError):
    pass


class ConnectError(NetworkError):
    pass


class RemoteProtocolError(TransportError):
    pass


class LocalProtocolError(TransportError):
    pass


class DecodingError(TransportError):
    pass


def usable(url: str) -> bool:
    """Whether this client can talk to `url`: plain http, no userinfo, no proxy for it in the environment."""
    parts = urlsplit(url)
    proxies = getproxies()
    return (parts.scheme.lower() == "http" and bool(parts.hostname) and "@" not in parts.netloc
            and not (proxies.get("http") or proxies.get("all")))


class Response:
    def __init__(self, status: int, reason: str, headers: http.client.HTTPMessage, content: bytes) -> None:
        self.status_code = status
        self.reason_phrase = reason
        self.headers = headers  # case-insensitive `get`, as httpx's
        self.content = content

    @property
    def text(self) -> str:
        charset = self.headers.get_content_charset() or "utf-8"
        try:
            return self.content.decode(charset, errors="replace")
        except LookupError:
            return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


class PlainClient:
    """Requests to one origin over kept-alive connections (one per concurrent request)."""

    errors: Any = None  # this module: its error classes bear httpx's names (set below)

    def __init__(self, base_url: str, *, timeout: float, connect_timeout: float, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or ""
        self.port = parts.port or 80
        self.timeout, self.connect_timeout = timeout, connect_timeout
        self.headers = dict(headers)
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def request(self, method: str, url: str, *, json: Any = None, params: dict | None = None,
                headers: dict[str, str] | None = None) -> Response:
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if params:
            target += ("&" if "?" in target else "?") + urlencode([(k, _param(v)) for k, v in params.items()])
        sent = {**self.headers, **(headers or {})}
        if not all(value.isascii() and value.isprintable() for value in sent.values()):
            raise LocalProtocolError("invalid header value")  # as httpx refuses it: never sent, never quoted
        body = None
        if json is not None:
            body = jsonlib.dumps(json, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
            sent["Content-Type"] = "application/json"
        elif method in ("POST", "PUT", "PATCH"):
            sent["Content-Length"] = "0"
        connection = self._connection()
        try:
            connection.request(method, target, body=body, headers=sent)
            answer = connection.getresponse()
            content = answer.read()
        except (socket.timeout, TimeoutError) as exc:
            connection.close()
            raise TimeoutException(str(exc) or "timed out") from exc
        except ValueError as exc:  # a header value http.client refuses (CR, LF): never quoted
            connection.close()
            raise LocalProtocolError("invalid header value") from exc
        except UnicodeEncodeError:
            connection.close()
            raise
        except (http.client.HTTPException) as exc:
            connection.close()
            raise RemoteProtocolError(type(exc).__name__) from exc
        except OSError as exc:
            connection.close()
            raise NetworkError(type(exc).__name__) from exc
        if answer.will_close:
            connection.close()
        else:
            with self._lock:
                self._idle.append(connection)
        return Response(answer.status, answer.reason, answer.headers, content)

    def _connection(self) -> http.client.HTTPConnection:
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                break
            if connection.sock is not None and not _readable(connection.sock):
                return connection  # still open, nothing unread (a closed one reads as EOF)
            connection.close()
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.connect_timeout)
        try:
            connection.connect()
        except (socket.timeout, TimeoutError) as exc:
            raise TimeoutException("connect timed out") from exc
        except OSError as exc:
            raise ConnectError(type(exc).__name__) from exc
        connection.sock.settimeout(self.timeout)
        return connection

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()


def _readable(sock: socket.socket) -> bool:
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _param(value: Any) -> str:
    """A query value as httpx writes it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


PlainClient.errors = sys.modules[__name__]
