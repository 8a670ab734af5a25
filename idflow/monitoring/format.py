"""The status table's cells as text, shared by the terminal table and the Prefect artifact.

A value the server did not give is shown as `n/a`, never as 0.
"""
from __future__ import annotations

from idflow.monitoring.report import TaskStatus

NA = "n/a"
HEADERS = ("task", "definition", "used", "queue", "workers", "last poll", "in progress", "completed", "failed",
           "fail %", "p50", "p95", "attention")


def age(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    if seconds < 60:
        return f"{seconds:.0f}s ago"
    if seconds < 3600:
        return f"{seconds / 60:.0f}m ago"
    if seconds < 86400:
        return f"{seconds / 3600:.1f}h ago"
    return f"{seconds / 86400:.1f}d ago"


def duration_ms(ms: float | None) -> str:
    if ms is None:
        return NA
    if ms < 1000:
        return f"{ms:.0f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.1f} s"
    return f"{ms / 60_000:.1f} min"


def count(value: int | None) -> str:
    return NA if value is None else str(value)


def rate(row: TaskStatus) -> str:
    if row.failure_rate is None:
        return NA if row.completed is None else "-"   # searched, nothing finished: no rate to give
    return f"{row.failure_rate * 100:.0f}%"


def workers(row: TaskStatus) -> str:
    if not row.pollers:
        return "0"
    return f"{row.live_workers} live / {len(row.pollers)} seen"


def definition(row: TaskStatus) -> str:
    return row.sync


def cells(row: TaskStatus) -> list[str]:
    """One row's cells, in the order of HEADERS."""
    return [row.name, definition(row), "yes" if row.used else "no", count(row.queue), workers(row),
            age(row.last_poll_age), count(row.in_progress), count(row.completed), count(row.failed), rate(row),
            duration_ms(row.p50_ms), duration_ms(row.p95_ms), ", ".join(row.attention)]


def window(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
