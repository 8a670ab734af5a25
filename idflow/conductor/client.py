"""A small, typed Conductor metadata client on httpx.

Layers, as in httpx: `_send` does one HTTP exchange and maps failures onto the
`idflow.base.errors` hierarchy; `_request` adds auth and bounded retries; the public
methods are typed calls on the metadata API. Retries happen only for transient
failures, only for idempotent requests, and within a count and a time budget.
"""
from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator
from urllib.request import getproxies

from idflow.conductor.answers import (describe, retry_after, server_message, shape_problem, tls_failure,
                                      validation_errors)
from idflow.conductor.auth import Auth, auth_from_env
from idflow.conductor.monitoring import MonitoringReads
from idflow.conductor.httpx_import import import_httpx
from idflow.conductor.paths import segment
from idflow.base.sanitize import without_userinfo
from idflow.base.errors import (AuthFailed, ConductorError, ConnectionFailed, NotFound, RequestTimeout,
                           ServerError, ServerUnavailable, TransientError, ValidationFailed)
from idflow.conductor.plain_http import PlainClient, usable

if TYPE_CHECKING:  # httpx is imported when a client is built: local commands never pay for it
    import httpx

RETRY_STATUSES = {429, 502, 503, 504}
START_HINT = "start one with 'scripts/conductor-server.sh start' or set conductor_server_url / CONDUCTOR_SERVER_URL"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long a transient failure is retried: count, backoff and a total time budget."""
    max_retries: int = 4            # retries after the first attempt
    base_delay: float = 0.2         # first backoff, doubled each retry, full jitter
    max_delay: float = 4.0          # one wait is never longer
    total_budget: float = 30.0      # no retry starts after this many seconds


@dataclass
class RequestStats:
    """Requests sent, by method and outcome: what benchmarks and tests count."""

    by_method: Counter = field(default_factory=Counter)
    retries: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, method: str) -> None:
        with self._lock:
            self.by_method[method] += 1

    @property
    def reads(self) -> int:
        return self.by_method["GET"]

    @property
    def writes(self) -> int:
        return sum(n for m, n in self.by_method.items() if m != "GET")


class ConductorClient(MonitoringReads):
    def __init__(self, api_url: str, *, auth: Auth | None = None, timeout: float = 10.0,
                 retry: RetryPolicy | None = None, verify: bool = True,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth = auth or Auth()
        self.retry = retry or RetryPolicy()
        self.stats = RequestStats()
        self._sleep = sleep
        if transport is None and usable(self.api_url):  # no httpx, no SSL context: see idflow.conductor.plain_http
            self._http: Any = PlainClient(self.api_url, timeout=timeout, connect_timeout=min(timeout, 5.0),
                                          headers={"Accept": "application/json"})
            self._errors: Any = PlainClient.errors
            return
        httpx = self._errors = import_httpx()
        # Loading the CA bundle costs ~20 ms per command; a plain-http client never uses it.
        self._http = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                                  verify=verify if _uses_tls(self.api_url) else False, transport=transport,
                                  headers={"Accept": "application/json"})

    def __repr__(self) -> str:
        return f"ConductorClient({self._origin()!r}, auth={self.auth.mode!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ConductorClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- task definitions -------------------------------------------------
    def list_taskdefs(self) -> list[dict[str, Any]]:
        return self._expect_list(self._request("GET", "/metadata/taskdefs"), "task definitions")

    def get_taskdef(self, name: str) -> dict[str, Any]:
        body = self._request("GET", f"/metadata/taskdefs/{_quote(name)}")
        problem = shape_problem(body) if isinstance(body, dict) else "is not a JSON object"
        if problem:
            raise ServerError(f"GET /metadata/taskdefs/{name}: the server's answer {problem}")
        return body

    def upsert_taskdefs(self, taskdefs: list[dict[str, Any]]) -> None:
        """POST: create or replace each definition (idempotent: same body, same result)."""
        self._request("POST", "/metadata/taskdefs", json=taskdefs, idempotent=True)

    def delete_taskdef(self, name: str) -> None:
        self._request("DELETE", f"/metadata/taskdefs/{_quote(name)}", idempotent=True)

    # ---- workflow definitions -----------------------------------------------
    def list_workflows(self) -> list[dict[str, Any]]:
        """Every version of every workflow definition."""
        return self._expect_list(self._request("GET", "/metadata/workflow"), "workflow definitions")

    def get_workflow(self, name: str, version: int | None = None) -> dict[str, Any]:
        params = {"version": version} if version is not None else None
        return self._request("GET", f"/metadata/workflow/{_quote(name)}", params=params)

    def upsert_workflows(self, workflows: list[dict[str, Any]]) -> None:
        self._request("PUT", "/metadata/workflow", json=workflows, idempotent=True)

    def delete_workflow(self, name: str, version: int) -> None:
        self._request("DELETE", f"/metadata/workflow/{_quote(name)}/{_quote(version)}", idempotent=True)

    # ---- event handlers -----------------------------------------------------------
    # The server answers 500 "EventHandler with name X not found!" for a missing name (not 404).
    def list_event_handlers(self) -> list[dict[str, Any]]:
        return self._expect_list(self._request("GET", "/event"), "event handlers")

    def create_event_handler(self, handler: dict[str, Any]) -> None:
        """POST: a name already on the server is answered 500 "... already exists!"."""
        self._request("POST", "/event", json=handler, idempotent=False)

    def update_event_handler(self, handler: dict[str, Any]) -> None:
        """PUT: replace the whole handler; NotFound when the name is not on the server."""
        with _event_handler_missing_is_not_found():
            self._request("PUT", "/event", json=handler, idempotent=True)

    def delete_event_handler(self, name: str) -> None:
        with _event_handler_missing_is_not_found():
            self._request("DELETE", f"/event/{_quote(name)}", idempotent=True)

    # ---- executions -------------------------------------------------------------
    def start_workflow(self, name: str, input: dict[str, Any], version: int | None = None) -> str:
        body: dict[str, Any] = {"name": name, "input": input}
        if version is not None:
            body["version"] = version
        # Not idempotent: a retried start could run the workflow twice.
        answer = self._request("POST", "/workflow", json=body, idempotent=False)
        workflow_id = answer.strip() if isinstance(answer, str) else ""
        if not _WORKFLOW_ID.fullmatch(workflow_id):  # e.g. a proxy's or login page's HTML, answered with 200
            raise ServerError(f"POST /workflow: the answer is not a workflow id ({describe(answer)}); "
                              f"{name[:80]} may or may not have started",
                              hint="check conductor_server_url points at Conductor itself (not a proxy or login "
                                   "page), and look in the Conductor UI before starting it again",
                              method="POST", path="/workflow")
        return workflow_id

    def get_execution(self, workflow_id: str) -> dict[str, Any]:
        body = self._request("GET", f"/workflow/{_quote(workflow_id)}", params={"includeTasks": "true"})
        if not isinstance(body, dict):
            raise ServerError(f"GET /workflow/{workflow_id[:80]}: the answer is not an execution ({describe(body)})",
                              method="GET", path="/workflow")
        return body

    def terminate_workflow(self, workflow_id: str, reason: str | None = None) -> None:
        """DELETE: 200 for a running or already terminated run; 409 for one that ended otherwise."""
        params = {"reason": reason} if reason else None
        self._request("DELETE", f"/workflow/{_quote(workflow_id)}", params=params, idempotent=True)

    def retry_workflow(self, workflow_id: str) -> None:
        """POST: 204 for a FAILED/TIMED_OUT/TERMINATED run; 404 while it runs, 409 once COMPLETED."""
        # Not idempotent: a repeated retry re-runs the failed task a second time.
        self._request("POST", f"/workflow/{_quote(workflow_id)}/retry", idempotent=False)

    def workflow_names(self) -> dict[str, list[int]]:
        """Each workflow name with its versions, without the definitions' bodies."""
        body = self._request("GET", "/metadata/workflow/names-and-versions")
        if not isinstance(body, dict):
            raise ServerError(f"GET /metadata/workflow/names-and-versions: not a JSON object ({describe(body)})")
        return {str(name): sorted(int(v.get("version") or 1) for v in versions if isinstance(v, dict))
                for name, versions in body.items() if isinstance(versions, list)}

    def running_workflow_ids(self, name: str, version: int) -> list[str]:
        """The ids of the RUNNING executions of one workflow version (GET /workflow/running/{name}?version=)."""
        body = self._request("GET", f"/workflow/running/{_quote(name)}", params={"version": version})
        if not isinstance(body, list):
            raise ServerError(f"GET /workflow/running/{name[:80]}: the answer is not a list ({describe(body)})",
                              method="GET", path="/workflow/running")
        return [str(i) for i in body]

    def list_schedules(self) -> list[dict[str, Any]] | None:
        """Every workflow schedule (GET /scheduler/schedules); None: the server has no scheduler (404, as OSS)."""
        try:
            body = self._request("GET", "/scheduler/schedules")
        except NotFound:
            return None
        return self._expect_list(body, "schedules")

    # ---- server -------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        root = self.api_url[: -len("/api")] if self.api_url.endswith("/api") else self.api_url
        return self._request("GET", root + "/health", absolute=True)

    def server_version(self) -> str | None:
        try:
            return str(self._request("GET", "/version")).strip() or None
        except (NotFound, ServerError):
            pass
        try:  # 3.21 has no /api/version; its Spring actuator names the build
            root = self.api_url[: -len("/api")] if self.api_url.endswith("/api") else self.api_url
            info = self._request("GET", root + "/actuator/info", absolute=True)
            return str(info["build"]["version"]).strip() or None
        except (NotFound, ServerError, KeyError, TypeError):
            return None

    # ---- plumbing -------------------------------------------------------------------
    def _request(self, method: str, path: str, *, json: Any = None, params: dict | None = None,
                 idempotent: bool | None = None, absolute: bool = False) -> Any:
        idempotent = method in ("GET", "HEAD") if idempotent is None else idempotent
        url = path if absolute else self.api_url + path
        if absolute:  # `path` is what messages quote: never the URL's userinfo
            path = without_userinfo(path)
        started = time.monotonic()
        attempt = 0
        refreshed = False
        while True:
            try:
                headers = self.auth.headers(self._fetch_token)
                return self._send(method, url, path, headers, json, params)
            except AuthFailed:
                if not refreshed and self.auth.forget_token():
                    refreshed = True
                    continue
                raise
            except TransientError as exc:
                retryable = idempotent or isinstance(exc, ServerUnavailable) and exc.status == 429
                elapsed = time.monotonic() - started
                if not retryable or attempt >= self.retry.max_retries or elapsed >= self.retry.total_budget:
                    raise
                delay = self._backoff(attempt, getattr(exc, "retry_after", None))
                delay = min(delay, max(0.0, self.retry.total_budget - elapsed))
                attempt += 1
                self.stats.retries += 1
                self._sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.retry.max_delay)
        return random.uniform(0, min(self.retry.max_delay, self.retry.base_delay * 2 ** attempt))

    def _send(self, method: str, url: str, path: str, headers: dict[str, str], body: Any,
              params: dict | None) -> Any:
        where = f"{method} {path}"
        self.stats.count(method)
        httpx = self._errors  # httpx, or idflow.conductor.plain_http with the same error names
        try:
            response = self._http.request(method, url, json=body, params=params, headers=headers)
        except httpx.TimeoutException:
            raise RequestTimeout(f"{where}: no answer from {self._origin()} in time",
                                 hint="the server is slow or stuck; raise request_timeout_seconds or check the server",
                                 method=method, path=path) from None
        except httpx.ConnectError as exc:
            tls = tls_failure(exc)
            if tls is None:
                raise ConnectionFailed(f"{where}: cannot talk to Conductor at {self._origin()} ({type(exc).__name__})",
                                       hint=START_HINT, method=method, path=path) from None
            # Not transient (a retry meets the same certificate) and never downgraded to http.
            raise ConductorError(f"{where}: TLS with {self._origin()} failed: {tls[0]}", hint=tls[1],
                                 method=method, path=path) from None
        except (httpx.LocalProtocolError, UnicodeEncodeError):
            # The message would quote the header value, i.e. the API key: never show it.
            raise ConductorError(f"{where}: the request could not be sent: a header value has characters HTTP "
                                 "does not allow", hint="check the API key variable (conductor_api_key_env_var) "
                                 "for stray spaces, newlines or non-ASCII characters", method=method,
                                 path=path) from None
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise ConnectionFailed(f"{where}: cannot talk to Conductor at {self._origin()} ({type(exc).__name__})",
                                   hint=START_HINT, method=method, path=path) from None
        except httpx.DecodingError:
            raise ServerError(f"{where}: the server's answer could not be decoded", method=method, path=path) from None
        return self._decode(response, method, path)

    def _decode(self, response: httpx.Response, method: str, path: str) -> Any:
        status = response.status_code
        where = f"{method} {path}"
        if status < 300:
            if not response.content:
                return None
            if "json" not in response.headers.get("content-type", "json"):
                return response.text
            try:
                return response.json()
            except (ValueError, RecursionError):  # bad JSON, bad UTF-8, or nested too deeply to parse
                raise ServerError(f"{where}: the server answered {status} with a body that is not valid JSON "
                                  f"({len(response.content)} bytes)", status=status, method=method, path=path) from None
        # Redact before cutting: a cut could split a secret and leave part of it unredacted.
        message = self._redact(server_message(response))[:500]
        kw = dict(status=status, method=method, path=path)
        if status in RETRY_STATUSES:
            error = ServerUnavailable(f"{where}: server busy or unavailable ({status}): {message}", **kw)
            error.retry_after = retry_after(response)  # type: ignore[attr-defined]
            raise error
        if status in (401, 403):
            raise AuthFailed(f"{where}: {'not authenticated' if status == 401 else 'not allowed'} ({status})",
                             hint="set the API key in the environment variable named by conductor_api_key_env_var, "
                                  "or CONDUCTOR_AUTH_KEY / CONDUCTOR_AUTH_SECRET", **kw)
        # Some deletes of a missing definition answer 500 "No such task/workflow definition".
        if status == 404 or status == 500 and message.startswith("No such "):
            raise NotFound(f"{where}: not found: {message}", **kw)
        if status == 400:
            raise ValidationFailed(f"{where}: the server rejected the request: {message}",
                                   errors=[self._redact(e) for e in validation_errors(response)], **kw)
        raise ServerError(f"{where}: server error {status}: {message}", **kw)

    def _fetch_token(self, key_id: str, key_secret: str) -> str:
        body = self._send("POST", self.api_url + "/token", "/token", {}, {"keyId": key_id, "keySecret": key_secret},
                          None)
        token = body.get("token") if isinstance(body, dict) else None
        if not token:
            raise AuthFailed("POST /token: the server returned no token",
                             hint="check CONDUCTOR_AUTH_KEY / CONDUCTOR_AUTH_SECRET")
        return token

    def _redact(self, text: str) -> str:
        for secret in self.auth.secrets():
            text = text.replace(secret, "***")
        return text

    def _origin(self) -> str:
        return without_userinfo(self.api_url)

    @staticmethod
    def _expect_list(body: Any, what: str) -> list[dict[str, Any]]:
        if not isinstance(body, list) or not all(isinstance(x, dict) for x in body):
            raise ServerError(f"the server's list of {what} is not a JSON list of objects")
        for index, item in enumerate(body):
            problem = shape_problem(item)
            if problem:
                raise ServerError(f"the server's list of {what} is malformed: item {index} {problem}")
        return body


# What a workflow id may look like: Conductor's are UUIDs; anything with spaces or markup is not one.
_WORKFLOW_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-.:]{0,199}")


@contextmanager
def _event_handler_missing_is_not_found() -> Iterator[None]:
    try:
        yield
    except ServerError as exc:
        if exc.status == 500 and exc.message.rstrip().endswith("not found!"):
            raise NotFound(exc.message, status=exc.status, method=exc.method, path=exc.path) from None
        raise


def _uses_tls(api_url: str) -> bool:
    """Whether requests to `api_url` can meet TLS: an https URL, or an https proxy from the environment."""
    if api_url.lower().startswith("https:"):
        return True
    return any(str(proxy).lower().startswith("https:") for proxy in getproxies().values())


def _quote(value: str | int) -> str:
    """One path segment, encoded exactly (see idflow.conductor.paths); refuses what cannot be."""
    return segment(value)


def client_from_config(config: "Any", *, transport: httpx.BaseTransport | None = None) -> ConductorClient:
    return ConductorClient(config.api_url, auth=auth_from_env(config.conductor_api_key_env_var),
                           timeout=float(config.request_timeout_seconds),
                           retry=RetryPolicy(max_retries=config.max_retries), verify=config.verify_tls,
                           transport=transport)
