"""A local HTTP proxy in front of the real Conductor server that injects faults.

    proxy = FaultProxy("http://127.0.0.1:8080/api").start()
    proxy.add_rule(method="POST", path="/api/metadata/taskdefs", action="status", status=503, times=2)
    ConductorClient(proxy.url).upsert_taskdefs([...])      # two 503s, then forwarded
    assert proxy.count("POST", "/api/metadata/taskdefs") == 3

Actions: "forward" (the default for requests no rule takes), "delay" (wait `delay`
seconds, then forward), "drop" (close without answering), "reset" (forward, send the
headers and `keep` of the body, then reset the connection), "status" (answer `status`
with a JSON `body` and extra `headers`, e.g. Retry-After), "truncate" (forward, but cut
the body to `keep` of it, with a matching Content-Length: a complete response whose
JSON is broken). Any rule may also carry `delay`, applied before its action, and
`rewrite`: a function of the request that returns the body to forward instead (it
may also act first, e.g. write to the server as a concurrent client would).
A "status" answer is labelled `content_type` (default application/json).

`FaultProxy(upstream, tls=ssl_context)` serves HTTPS instead (see `self_signed_tls`):
for tests that TLS is verified by default and `--insecure` is needed to skip it.

Each rule counts the requests that match its method and path prefix. A rule fires on
every match, or only on its `nth` match, and at most `times` times; when several rules
fire for one request, the one added first wins. Every request is recorded.
"""
from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

import httpx

ACTIONS = ("forward", "delay", "drop", "reset", "status", "truncate")
# Headers that describe one hop or the encoding of the body; the proxy sets its own.
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade",
        "host", "content-length", "content-encoding", "accept-encoding"}


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str                 # without the query string
    query: str
    headers: httpx.Headers    # case-insensitive
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Rule:
    action: str
    method: str | None = None       # None: any method
    path: str = "/"                 # prefix of the request path (which includes /api)
    nth: int | None = None          # fire only on the nth matching request (1-based)
    times: int | None = None        # fire at most this many times; None: no limit
    delay: float = 0.0
    status: int = 503
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    keep: float = 0.5               # "reset"/"truncate": the fraction of the body sent
    content_type: str = "application/json"  # "status": the Content-Type of the answer
    rewrite: Callable[["RecordedRequest"], bytes] | None = None  # body to forward instead
    seen: int = 0                   # matching requests so far
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and path.startswith(self.path)

    def fires(self) -> bool:
        return (self.nth is None or self.seen == self.nth) and (self.times is None or self.fired < self.times)


class FaultProxy:
    def __init__(self, upstream_url: str, *, tls: ssl.SSLContext | None = None) -> None:
        parts = urlsplit(upstream_url.rstrip("/"))
        self.upstream_origin = f"{parts.scheme}://{parts.netloc}"
        self._base_path = parts.path
        self._rules: list[Rule] = []
        self._requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._upstream = httpx.Client(base_url=self.upstream_origin, timeout=60.0)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:  # the handshake happens in the handler thread, on the first read
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True,
                                                  do_handshake_on_connect=False)
            self._server.handle_error = lambda request, address: None  # a refused handshake is expected
            self.scheme = "https"
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def origin(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The proxy's URL with the upstream's path, e.g. http://127.0.0.1:PORT/api."""
        return self.origin + self._base_path

    def start(self) -> "FaultProxy":
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                            name=f"faultproxy-{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()   # wakes handlers that are sleeping in a delay
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
        self._upstream.close()

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_rule(self, method: str | None = None, path: str = "/", action: str = "forward", *,
                 nth: int | None = None, times: int | None = None, delay: float = 0.0, status: int = 503,
                 body: Any = None, headers: dict[str, str] | None = None, keep: float = 0.5,
                 content_type: str = "application/json",
                 rewrite: Callable[[RecordedRequest], bytes] | None = None) -> Rule:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        rule = Rule(action, method.upper() if method else None, path, nth, times, delay, status, body,
                    dict(headers or {}), keep, content_type=content_type, rewrite=rewrite)
        with self._lock:
            self._rules.append(rule)
        return rule

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def count(self, method: str | None = None, path: str = "/") -> int:
        """Requests seen with this method (any if None) and path prefix."""
        return sum(1 for r in self.requests if (method is None or r.method == method) and r.path.startswith(path))

    def clear(self) -> None:
        """Forget every rule and every recorded request."""
        with self._lock:
            self._rules.clear()
            self._requests.clear()

    # ---- used by the handler ---------------------------------------------------
    def _record_and_choose(self, request: RecordedRequest) -> Rule | None:
        with self._lock:
            self._requests.append(request)
            chosen = None
            for rule in self._rules:
                if rule.matches(request.method, request.path):
                    rule.seen += 1
                    if chosen is None and rule.fires():
                        chosen = rule
            if chosen is not None:
                chosen.fired += 1
            return chosen

    def _forward(self, request: RecordedRequest) -> tuple[int, list[tuple[str, str]], bytes]:
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _HOP]
        target = request.path + (f"?{request.query}" if request.query else "")
        try:
            response = self._upstream.request(request.method, target, headers=headers, content=request.body)
        except httpx.HTTPError as exc:
            body = json.dumps({"status": 502, "message": f"faultproxy: upstream failed: {type(exc).__name__}"})
            return 502, [("Content-Type", "application/json")], body.encode()
        kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _HOP]
        return response.status_code, kept, response.content


def _make_handler(proxy: FaultProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        timeout = 30  # an idle keep-alive connection is closed after this

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self._handle()

        do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

        def _handle(self) -> None:
            path, _, query = self.path.partition("?")
            request = RecordedRequest(self.command, path, query, httpx.Headers(list(self.headers.items())),
                                      self._read_body())
            rule = proxy._record_and_choose(request)
            if rule is None:
                return self._reply(*proxy._forward(request))
            if rule.rewrite is not None:  # recorded as sent; forwarded as rewritten
                request = replace(request, body=rule.rewrite(request))
            if rule.delay and proxy._stopping.wait(rule.delay):
                return self._close(reset=True)
            if rule.action == "drop":
                return self._close(reset=False)
            if rule.action == "status":
                return self._reply(rule.status, [("Content-Type", rule.content_type), *rule.headers.items()],
                                   _encode(rule.body, rule.status))
            status, headers, body = proxy._forward(request)
            if rule.action == "truncate":
                body = body[: int(len(body) * rule.keep)]
            elif rule.action == "reset":
                body = body or b"{}"
                self._reply(status, headers, body[: int(len(body) * rule.keep)], length=len(body))
                return self._close(reset=True)
            self._reply(status, [*headers, *rule.headers.items()], body)

        def _read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                chunks = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(chunks)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _reply(self, status: int, headers: list[tuple[str, str]], body: bytes, length: int | None = None) -> None:
            try:
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)
                self.wfile.flush()
            except OSError:  # the client gave up (e.g. its timeout fired first)
                self.close_connection = True

        def _close(self, *, reset: bool) -> None:
            """Close without (more of) an answer; `reset` sends a TCP RST instead of a FIN."""
            self.close_connection = True
            try:
                if reset:
                    time.sleep(0.05)  # let what was written reach the client before the RST
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
            except OSError:
                pass

    return Handler


def _encode(body: Any, status: int) -> bytes:
    if body is None:
        body = {"status": status, "message": f"injected by faultproxy ({status})"}
    if isinstance(body, bytes):
        return body
    return body.encode() if isinstance(body, str) else json.dumps(body).encode()


def self_signed_tls(directory) -> tuple[ssl.SSLContext, str]:
    """A server SSLContext with a fresh self-signed certificate for 127.0.0.1, and the
    certificate's PEM path (a CA bundle that trusts it). Needs `cryptography`."""
    import datetime
    import ipaddress
    from pathlib import Path

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = Path(directory) / "proxy-cert.pem", Path(directory) / "proxy-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context, str(cert_path)


def free_port() -> int:
    """A port nothing listens on (bound then released), for connection-refused tests."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
