"""Pure steps of `tasks status`: durations, execution statistics and the report itself.

The use case fetches (one request per endpoint: queues, poll data, search pages); these
functions only count. Measured on Conductor OSS 3.32.3 (SQLite) and 3.21.14 (memory):
- `GET /tasks/queue/all` maps every queue to its size: task types, `domain:type` for a
  domain's queue, the server's own (`_deciderQueue`) and, on 3.21, empty system-task
  queues (HTTP, JOIN, ...);
- `GET /tasks/queue/polldata/all` lists {queueName, domain?, workerId, lastPollTime (epoch ms)}
  for every type polled, defined or not, also when the poll found nothing;
- `GET /tasks/search` answers {totalHits, results} with ISO times, `executionTime` in ms;
  3.21 with its memory store answers an empty result for everything (no index), and the
  SQLite index ignores query terms it does not know, so the window is re-checked here.
"""
from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Mapping

from idflow.monitoring.report import (EMPTY, FAILING, INDEXED, UNAVAILABLE, UNDEFINED, UNSERVED, Poller,
                                      StatusReport, TaskStatus, Thresholds)

COMPLETED = ("COMPLETED", "COMPLETED_WITH_ERRORS")
FAILED = ("FAILED", "FAILED_WITH_TERMINAL_ERROR", "TIMED_OUT")
RUNNING = ("IN_PROGRESS",)
SYNC_LABELS = {"unchanged": "in sync", "update": "changed", "create": "only in code",
               "orphaned": "only on server", "foreign": "only on server", "uncertain": "only on server",
               "edited_on_server": "edited on the server", "conflict": "conflict"}
NO_DEFINITION = "no definition"

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)?", re.I)
_UNIT = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, None: 1}


def parse_duration(text: str) -> int:
    """`90`, `90s`, `5m`, `1h`, `1h30m`, `2d` -> whole seconds (at least 1); ValueError otherwise."""
    value = str(text).strip().lower().replace(" ", "")
    parts = list(_DURATION.finditer(value))
    if not value or not parts or "".join(p.group(0) for p in parts) != value:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h, 1h30m, 2d)")
    seconds = sum(float(p.group(1)) * _UNIT[p.group(2)] for p in parts)
    if seconds < 1:
        raise ValueError(f"a duration of at least one second is needed, not {text!r}")
    return int(seconds)


def parse_rate(text: str) -> float:
    """`10%` or `0.1` -> 0.1; ValueError outside 0..1."""
    value = str(text).strip()
    rate = float(value[:-1]) / 100 if value.endswith("%") else float(value)
    if not 0 <= rate <= 1 or math.isnan(rate):
        raise ValueError(f"a failure rate is between 0 and 1 (or 0% and 100%), not {text!r}")
    return rate


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)])


def finished_query(since_ms: int) -> str:
    return f"endTime>{since_ms} AND status IN ({','.join(COMPLETED + FAILED)})"


def running_query() -> str:
    return f"status IN ({','.join(RUNNING)})"


def epoch_ms(value: Any) -> int | None:
    """A search result's time: epoch ms or ISO 8601 (`2026-12-06T02:35:43.634Z`); None if neither."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value:
        try:
            return int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() * 1000)
        except ValueError:
            return int(value) if value.isdigit() else None
    return None


def task_type(execution: Mapping[str, Any]) -> str:
    return str(execution.get("taskDefName") or execution.get("taskType") or "")


@dataclass
class Executions:
    """Counts and execution times by task type, from the search's results."""

    completed: Counter = field(default_factory=Counter)
    failed: Counter = field(default_factory=Counter)
    running: Counter = field(default_factory=Counter)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


def summarise(finished: Iterable[Mapping[str, Any]], running: Iterable[Mapping[str, Any]],
              since_ms: int) -> Executions:
    seen = Executions()
    for ex in finished:
        end = epoch_ms(ex.get("endTime"))
        status = ex.get("status")
        if end is None or end <= since_ms or status not in COMPLETED + FAILED:
            continue  # outside the window (a server that ignored the query's time term)
        name = task_type(ex)
        (seen.completed if status in COMPLETED else seen.failed)[name] += 1
        took = ex.get("executionTime")
        if not isinstance(took, (int, float)) or isinstance(took, bool):
            start = epoch_ms(ex.get("startTime"))
            took = end - start if start else None
        if took is not None and took >= 0:
            seen.times[name].append(float(took))
    for ex in running:
        if ex.get("status") in RUNNING:
            seen.running[task_type(ex)] += 1
    return seen


def split_queue(name: str) -> tuple[str | None, str]:
    """`domain:type` -> (domain, type); a plain name -> (None, name)."""
    domain, sep, rest = name.partition(":")
    return (domain, rest) if sep and domain and rest else (None, name)


def queues_by_type(queues: Mapping[str, int]) -> dict[str, int]:
    """Queue sizes summed over domains; the server's own `_...` queues left out."""
    total: dict[str, int] = defaultdict(int)
    for name, size in queues.items():
        if not name.startswith("_"):
            total[split_queue(name)[1]] += int(size)
    return dict(total)


def pollers_by_type(polls: Iterable[Mapping[str, Any]], now_ms: int) -> dict[str, list[Poller]]:
    found: dict[str, list[Poller]] = defaultdict(list)
    for poll in polls:
        queue, last = poll.get("queueName"), poll.get("lastPollTime")
        if not isinstance(queue, str) or not isinstance(last, (int, float)):
            continue
        domain, name = split_queue(queue)
        found[name].append(Poller(str(poll.get("workerId") or "?"), int(last), max(0.0, (now_ms - last) / 1000),
                                  poll.get("domain") or domain))
    for pollers in found.values():
        pollers.sort(key=lambda p: p.last_poll_ms, reverse=True)
    return dict(found)


@dataclass
class Observed:
    """What the server answered, as plain data: the use case's fetches, the report's input."""

    queues: dict[str, int] | None                    # None: no queue endpoint answered
    polls: list[dict[str, Any]]
    search: str                                      # INDEXED / EMPTY / UNAVAILABLE
    finished: list[dict[str, Any]] = field(default_factory=list)
    running: list[dict[str, Any]] = field(default_factory=list)
    truncated: bool = False
    busy: bool = False                               # some queue or poller shows the server has work


def search_note(search: str, busy: bool) -> str | None:
    if search == INDEXED:
        return None
    if search == UNAVAILABLE:
        return ("the server's task search does not answer, so in progress, completed, failed and timings are "
                "not shown (this persistence setup keeps no index)")
    if busy:
        return ("the server's task search finds no execution while tasks are queued or polled: it keeps no "
                "index (e.g. Conductor 3.21 with its memory store), so in progress, completed, failed and timings "
                "are not shown")
    return ("the server's task search has no execution at all: none ran yet, or the server keeps no index; "
            "in progress, completed, failed and timings are not shown")


def build_report(*, local: Iterable[str], remote: Iterable[str], actions: Mapping[str, str], used: Iterable[str],
                 observed: Observed, now_ms: int, thresholds: Thresholds,
                 names: Iterable[str] | None = None) -> StatusReport:
    """One row per task type that is local, remote, polled or queued (or only `names`)."""
    local, remote, used = set(local), set(remote), set(used)
    queues = queues_by_type(observed.queues) if observed.queues is not None else None
    pollers = pollers_by_type(observed.polls, now_ms)
    since_ms = now_ms - thresholds.window_seconds * 1000
    stats = summarise(observed.finished, observed.running, since_ms) if observed.search == INDEXED else None
    wanted = set(names or ())
    rows = local | remote | set(pollers) | {n for n, size in (queues or {}).items() if size > 0}
    if wanted:
        rows = wanted
    tasks = []
    for name in sorted(rows):
        seen = pollers.get(name, [])
        live = sum(1 for p in seen if p.age_seconds <= thresholds.unserved_after_seconds)
        row = TaskStatus(name=name, local=name in local, remote=name in remote,
                         sync=sync_label(actions.get(name)), used=name in used,
                         queue=None if queues is None else queues.get(name, 0), pollers=seen, live_workers=live,
                         last_poll_age=seen[0].age_seconds if seen else None)
        if stats is not None:
            row.in_progress, row.completed, row.failed = (stats.running[name], stats.completed[name],
                                                          stats.failed[name])
            done = row.completed + row.failed
            row.failure_rate = row.failed / done if done else None
            row.p50_ms, row.p95_ms = percentile(stats.times.get(name, []), 50), percentile(stats.times.get(name, []), 95)
        row.attention = attention(row, thresholds)
        tasks.append(row)
    return StatusReport(generated_at_ms=now_ms, thresholds=thresholds, search=observed.search,
                        search_note=search_note(observed.search, observed.busy), tasks=tasks,
                        truncated=observed.truncated)


def sync_label(action: str | None) -> str:
    """How the code and the server compare, in the words of `tasks list` (a plan action; none: no definition)."""
    if not action:
        return NO_DEFINITION
    return SYNC_LABELS.get(action, action.replace("_", " "))


def attention(row: TaskStatus, thresholds: Thresholds) -> list[str]:
    found = []
    if row.queue and row.live_workers == 0:
        found.append(UNSERVED)      # work waits, and no worker polled within unserved_after
    if row.failure_rate is not None and row.failure_rate > thresholds.failing_above:
        found.append(FAILING)
    if not row.remote and any(p.age_seconds <= thresholds.window_seconds for p in row.pollers):
        found.append(UNDEFINED)     # a worker polls a type the server has no definition of
    return found


__all__ = ["EMPTY", "FAILING", "INDEXED", "UNAVAILABLE", "UNDEFINED", "UNSERVED", "Executions", "Observed",
           "build_report", "finished_query", "parse_duration", "parse_rate", "percentile", "running_query",
           "summarise"]
