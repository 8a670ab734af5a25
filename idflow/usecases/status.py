"""`tasks status`: is every task served, and how is it doing?

Steps: `discover`, `fetch_taskdefs`, `fetch_workflows` (what is in code, on the server, and
used) and `fetch_observed` (queues, poll data, the search's executions) at the edges; then
`build_report`, pure. Every fetch is one request for all task types (the search pages by
1,000), so 1,000 task types cost as few requests as ten.
"""
from __future__ import annotations

import time
from typing import Any, Iterable

from idflow.base.errors import ConductorError, NotFound, TransientError
from idflow.monitoring.assemble import Observed, build_report, finished_query, running_query
from idflow.monitoring.report import EMPTY, INDEXED, UNAVAILABLE, StatusReport, Thresholds
from idflow.usecases.purging import fetch_workflows
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.usecases.tasks import discover, fetch_taskdefs, plan_definitions
from idflow.taskdefs.usage import build_usage_index

PAGE = 1000                 # search results per request
MAX_EXECUTIONS = 20_000     # finished executions read per report; beyond, `truncated` says so
INTERNAL = "_idflow_"       # idflow's own bookkeeping definitions (a ledger) are no task type


def _pages(client: Any, query: str, sort: str | None, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Every search result for `query` up to `limit`; (results, whether more were left)."""
    results: list[dict[str, Any]] = []
    while len(results) < limit:
        page = client.search_tasks(query, start=len(results), size=min(PAGE, limit - len(results)), sort=sort)
        got = [r for r in page.get("results") or [] if isinstance(r, dict)]
        results += got
        total = page.get("totalHits")
        if not got or (isinstance(total, int) and len(results) >= total):
            return results, False
    return results, True


def fetch_observed(session: Session, since_ms: int, names: Iterable[str] = ()) -> Observed:
    """Queues, poll data and (where the server indexes them) executions since `since_ms`.

    A server without the all-types poll data endpoint is asked once per name in `names`."""
    client = session.client
    try:
        queues: dict[str, int] | None = client.queue_sizes()
    except NotFound:
        queues = None
    try:
        polls = client.poll_data()
    except NotFound:
        polls = [p for name in sorted(set(names)) for p in client.poll_data(name)]
    busy = bool(polls) or any(size > 0 for name, size in (queues or {}).items() if not name.startswith("_"))
    try:
        probe = client.search_tasks("", size=1)
    except TransientError:
        raise
    except ConductorError:
        return Observed(queues, polls, UNAVAILABLE, busy=busy)
    if not probe.get("totalHits") and not probe.get("results"):
        return Observed(queues, polls, EMPTY, busy=busy)
    finished, truncated = _pages(client, finished_query(since_ms), "endTime:DESC", MAX_EXECUTIONS)
    running, more = _pages(client, running_query(), None, MAX_EXECUTIONS)
    return Observed(queues, polls, INDEXED, finished, running, truncated or more, busy)


def task_status(session: Session, *, names: Iterable[str] | None = None, thresholds: Thresholds = Thresholds(),
           run: StepRunner = direct, now_ms: int | None = None) -> StatusReport:
    """One row per task type (local, remote, polled or queued; or only `names`) with what needs attention."""
    stats = getattr(session.client, "stats", None)
    before = sum(stats.by_method.values()) if stats is not None else None
    discovery = run(discover, session.config)
    taskdefs = run(fetch_taskdefs, session)
    workflows = run(fetch_workflows, session)
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    local = [t.name for t in discovery.tasks]
    remote = [str(d.get("name")) for d in taskdefs if not str(d.get("name")).startswith(INTERNAL)]
    observed = run(fetch_observed, session, now_ms - thresholds.window_seconds * 1000,
                   list(names or []) or sorted(set(local) | set(remote)))
    plan = plan_definitions(session.config, discovery.tasks, taskdefs)
    index = build_usage_index(workflows.server, workflows.local)
    report = build_report(local=local, remote=remote, actions={i.name: i.action for i in plan.items},
                          used=[n for n in set(local) | set(remote) if index.uses_of(n)], observed=observed,
                          now_ms=now_ms, thresholds=thresholds, names=list(names or []))
    if before is not None:
        report.requests = sum(stats.by_method.values()) - before
    return report
