"""The status report: one row per task type, and what needs attention.

A value the server did not give is None, never 0: the JSON says null and the table says
so, because an empty column shown as zero reads as "nothing failed".
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

UNSERVED, FAILING, UNDEFINED = "unserved", "failing", "undefined"
ATTENTION = (UNSERVED, FAILING, UNDEFINED)
# What the search can say about executions.
INDEXED = "indexed"          # it answers, and has indexed some: its zeros are zeros
EMPTY = "empty"              # it answers, and has nothing at all: no executions yet, or no index
UNAVAILABLE = "unavailable"  # it does not answer (404, 500): no index


@dataclass(frozen=True)
class Thresholds:
    """When `tasks status` calls a task type unserved or failing, and the window executions are counted over."""
    window_seconds: int = 3600           # --since: completed, failed and timings count from then
    unserved_after_seconds: int = 60     # --unserved-after: no poll for this long = no worker
    failing_above: float = 0.1           # --failing-above: a failure rate over this is "failing"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Poller:
    """One worker that polled a task type's queue, and how long ago, as the server keeps it."""
    worker_id: str
    last_poll_ms: int                    # epoch ms, as the server keeps it
    age_seconds: float                   # at the report's time
    domain: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TaskStatus:
    """One row of `tasks status`: a task type's definition, queue, workers, executions and what needs attention."""
    name: str
    local: bool                          # a task file defines it
    remote: bool                         # the server has its definition
    sync: str                            # in sync / changed / only in code / only on server / no definition
    used: bool                           # a workflow (server or local file) uses it by name
    queue: int | None                    # tasks waiting for a worker (None: the server listed no queue)
    pollers: list[Poller] = field(default_factory=list)
    live_workers: int = 0                # pollers seen within unserved_after
    last_poll_age: float | None = None   # seconds since the newest poll (None: never polled)
    in_progress: int | None = None       # None: the server's search cannot say
    completed: int | None = None
    failed: int | None = None
    failure_rate: float | None = None    # failed / (completed + failed); None with nothing finished
    p50_ms: float | None = None
    p95_ms: float | None = None
    attention: list[str] = field(default_factory=list)   # unserved, failing, undefined

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["pollers"] = [p.to_json() for p in self.pollers]
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "TaskStatus":
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in doc.items() if k in known}
        values["pollers"] = [Poller(**p) for p in doc.get("pollers", [])]
        return cls(**values)


@dataclass
class StatusReport:
    """`tasks status`: the document the CLI prints with --json and the `status` flow returns."""

    generated_at_ms: int
    thresholds: Thresholds
    search: str                          # indexed / empty / unavailable
    search_note: str | None              # said once, when the execution columns are empty
    tasks: list[TaskStatus]
    truncated: bool = False              # more executions in the window than were read
    requests: int | None = None          # requests sent to build it (benchmarks, --verbose)

    def of(self, kind: str) -> list[TaskStatus]:
        return [t for t in self.tasks if kind in t.attention]

    @property
    def counts(self) -> dict[str, int]:
        ours = [t for t in self.tasks if t.local]
        return {"tasks": len(self.tasks), "local": len(ours),
                "served": sum(1 for t in ours if t.live_workers > 0),
                **{kind: len(self.of(kind)) for kind in ATTENTION}}

    def needs_attention(self, kinds: tuple[str, ...] | list[str] = ATTENTION) -> list[str]:
        """Which of `kinds` some row has (the order of ATTENTION)."""
        return [k for k in ATTENTION if k in kinds and self.of(k)]

    def summary(self) -> str:
        """One line: what the flow's state message and the table's title say."""
        c = self.counts
        parts = [f"{c['unserved']} unserved"] if c["unserved"] else []
        parts += [f"{c['failing']} failing"] if c["failing"] else []
        parts += [f"{c['undefined']} polled without a definition"] if c["undefined"] else []
        head = "; ".join(parts) if parts else "All served"
        return f"{head} ({c['served']} of {c['local']} local task(s) have a polling worker)"

    def to_json(self) -> dict[str, Any]:
        return {"generated_at_ms": self.generated_at_ms, "thresholds": self.thresholds.to_json(),
                "search": self.search, "search_note": self.search_note, "truncated": self.truncated,
                "counts": self.counts, "attention": self.needs_attention(), "summary": self.summary(),
                "requests": self.requests, "tasks": [t.to_json() for t in self.tasks]}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "StatusReport":
        return cls(generated_at_ms=doc["generated_at_ms"], thresholds=Thresholds(**doc["thresholds"]),
                   search=doc["search"], search_note=doc.get("search_note"),
                   tasks=[TaskStatus.from_json(t) for t in doc["tasks"]], truncated=doc.get("truncated", False),
                   requests=doc.get("requests"))
