"""Scheduled syncs in Prefect that would undo a rollback, read and paused through Prefect's REST API.

Plain httpx against PREFECT_API_URL: no Prefect import (~1.7 s), so the core stays Prefect-free
and a rollback pays for one or two requests only. A sync deployment is a deployment of the
`idflow-sync` flow; it is *active* when the deployment is not paused and one of its schedules is.
A deployment whose `environment` parameter names another environment does not count.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any
import os
from urllib.parse import urlsplit, urlunsplit

from idflow.base.errors import IdflowError, PrefectUnreachable
from idflow.conductor.httpx_import import import_httpx

SYNC_FLOW = "idflow-sync"
PAGE = 200
TIMEOUT = 5.0


@dataclass(frozen=True)
class SyncSchedule:
    """One active schedule of one sync deployment."""

    deployment_id: str
    deployment: str                 # "flow/deployment", as the prefect CLI names it
    schedule_id: str
    schedule: str                   # "cron */15 * * * * (UTC)"
    environment: str | None         # the deployment's `environment` parameter, if any

    @property
    def resume_command(self) -> str:
        return f"prefect deployment schedule resume '{self.deployment}' {self.schedule_id}"

    def to_json(self) -> dict[str, Any]:
        return {"deployment": self.deployment, "deployment_id": self.deployment_id,
                "schedule_id": self.schedule_id, "schedule": self.schedule, "environment": self.environment,
                "resume": self.resume_command}


def describe(schedule: dict[str, Any]) -> str:
    """A schedule in one phrase: cron, interval or rrule."""
    if schedule.get("cron"):
        return f"cron {schedule['cron']}" + (f" ({schedule['timezone']})" if schedule.get("timezone") else "")
    if schedule.get("interval") is not None:
        return f"every {schedule['interval']} s"
    if schedule.get("rrule"):
        return f"rrule {schedule['rrule']}"
    return "schedule"


def applies_to(deployment: dict[str, Any], environment: str | None) -> bool:
    """Whether a sync deployment writes to `environment`: yes unless both name different ones.

    A deployment without an `environment` parameter (or this side without one) may write anywhere,
    so it counts: an unneeded refusal is cheaper than a rollback undone in silence."""
    theirs = (deployment.get("parameters") or {}).get("environment")
    return not (theirs and environment and theirs != environment)


def active_sync_schedules(api_url: str, *, environment: str | None = None,
                          timeout: float = TIMEOUT) -> list[SyncSchedule]:
    """Every active schedule of a sync deployment for `environment`. PrefectUnreachable when the
    server cannot be asked (connection refused, timeout, an error answer)."""
    found: list[SyncSchedule] = []
    offset = 0
    with _client(api_url, timeout) as http:
        while True:
            page = _call(http, api_url, "POST", "/deployments/filter",
                         json={"flows": {"name": {"any_": [SYNC_FLOW]}}, "limit": PAGE, "offset": offset})
            for deployment in page:
                if deployment.get("paused") or not applies_to(deployment, environment):
                    continue
                found += [SyncSchedule(str(deployment["id"]), f"{SYNC_FLOW}/{deployment['name']}", str(s["id"]),
                                       describe(s.get("schedule") or {}),
                                       (deployment.get("parameters") or {}).get("environment"))
                          for s in deployment.get("schedules") or [] if s.get("active")]
            if len(page) < PAGE:
                return found
            offset += PAGE


def pause_schedules(api_url: str, schedules: list[SyncSchedule], *, timeout: float = TIMEOUT) -> None:
    """Deactivate each schedule (as `prefect deployment schedule pause` does). A failure names
    the ones already paused, so none is left paused unknowingly."""
    done: list[SyncSchedule] = []
    with _client(api_url, timeout) as http:
        for schedule in schedules:
            try:
                _set_active(http, api_url, schedule, False)
            except IdflowError as exc:
                resume = "; ".join(s.resume_command for s in done) or "none was paused"
                raise IdflowError(f"could not pause {schedule.deployment} ({exc.message}); nothing was rolled back",
                                  hint=f"already paused, resume with: {resume}") from None
            done.append(schedule)


def resume_schedules(api_url: str, schedules: list[SyncSchedule], *, timeout: float = TIMEOUT) -> list[str]:
    """Reactivate schedules a failed rollback paused; returns the resume commands of those it could not."""
    left: list[str] = []
    try:
        with _client(api_url, timeout) as http:
            for schedule in schedules:
                try:
                    _set_active(http, api_url, schedule, True)
                except IdflowError:
                    left.append(schedule.resume_command)
    except IdflowError:
        return [s.resume_command for s in schedules]
    return left


def _set_active(http: Any, api_url: str, schedule: SyncSchedule, active: bool) -> None:
    _call(http, api_url, "PATCH", f"/deployments/{schedule.deployment_id}/schedules/{schedule.schedule_id}",
          json={"active": active})


def _client(api_url: str, timeout: float):
    httpx = import_httpx()
    key = os.environ.get("PREFECT_API_KEY")  # Prefect Cloud; a header, never in a message
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=api_url.rstrip("/"), timeout=timeout, headers=headers)


def _call(http: Any, api_url: str, method: str, path: str, **kwargs: Any) -> Any:
    httpx = import_httpx()
    try:
        response = http.request(method, path, **kwargs)
    except httpx.HTTPError as exc:
        raise PrefectUnreachable(f"Prefect at {safe(api_url)} is not reachable ({type(exc).__name__})") from None
    if response.status_code >= 400:
        raise PrefectUnreachable(f"Prefect at {safe(api_url)} answered {response.status_code} to {method} {path}")
    return response.json() if response.content else None


def safe(url: str) -> str:
    """The URL without a user:password part (Prefect Cloud keys travel as headers, not here)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        parts = parts._replace(netloc=(parts.hostname or "") + (f":{parts.port}" if parts.port else ""))
    return urlunsplit(parts)
