"""Apply a plan: back up, merge, write in batches, read back and verify.

Writes only what the plan says, merged into the server's current copy so fields
others set survive. On a failure mid-way it reads the server once more to say
exactly which definitions were written and which were not; a rerun converges
because the next plan sees what is there and writes nothing twice.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from idflow.taskdefs import fields as taskdef
from idflow.engine.backups import write_backup
from idflow.base.interrupt import Interruption, requested, writing
from idflow.base.errors import ConductorError, RefusedError, TransientError, ValidationFailed
from idflow.taskdefs.plan import CREATE, UNCHANGED, UPDATE, Plan, PlanItem, fingerprint
from idflow.provenance.trailer import parse_provenance, stamp

Progress = Callable[[int, int], None]


@dataclass
class ApplyResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)   # {"name", "errors"}
    not_attempted: list[str] = field(default_factory=list)
    backup: str | None = None
    requests: dict[str, int] = field(default_factory=dict)
    interrupted: bool = False       # a signal stopped the writes (the rest is in not_attempted)
    # The failure that stopped the writes, when a retry of the same apply may succeed.
    transient: TransientError | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted

    def to_json(self) -> dict[str, Any]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "failed": self.failed, "not_attempted": self.not_attempted, "backup": self.backup,
                "requests": self.requests, "interrupted": self.interrupted}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ApplyResult":
        return cls(**{k: data[k] for k in ("created", "updated", "unchanged", "failed", "not_attempted",
                                           "backup", "requests", "interrupted") if k in data})


def body_for(item: PlanItem, server_copy: dict[str, Any] | None) -> dict[str, Any]:
    """The definition to write: owned fields + provenance trailer, merged over the server copy."""
    desired = dict(item.desired or {})
    if item.provenance is not None:
        desired["description"] = stamp(desired.get("description"), item.provenance)
    return taskdef.merge(desired, server_copy)


def recheck(plan: Plan, current: dict[str, dict[str, Any]]) -> None:
    """Refuse (exit 3) if any definition the plan touches changed since it was made."""
    moved = [i.name for i in plan.to_write if fingerprint(current.get(i.name)) != i.seen]
    if moved:
        raise RefusedError(f"the server changed since the plan was made: {', '.join(moved)}; nothing was written",
                           hint="make a fresh plan with 'idflow tasks diff --out plan.json'")


def apply_plan(client, plan: Plan, *, state_dir: Path, batch_size: int = 500, recheck_server: bool = False,
               progress: Progress | None = None, interruption: Interruption | None = None) -> ApplyResult:
    """Write the plan's creates and updates; a signal stops between batches (see idflow.base.interrupt)."""
    with writing(interruption):
        return _apply(client, plan, state_dir, batch_size, recheck_server, progress, interruption)


def _apply(client, plan: Plan, state_dir: Path, batch_size: int, recheck_server: bool,
           progress: Progress | None, interruption: Interruption | None) -> ApplyResult:
    result = ApplyResult(unchanged=[i.name for i in plan.of(UNCHANGED) if not plan.forced])
    items = plan.to_write
    before = dict(client.stats.by_method)
    if not items:
        result.requests = _delta(client, before)
        return result
    if recheck_server:
        if not plan.server_url:  # a saved plan must say where it was made, or any server would do
            raise RefusedError("the plan names no server, so it cannot be checked against this one; "
                               "nothing was written", hint="make a fresh plan with 'idflow tasks diff --out plan.json'")
        current = {d["name"]: d for d in client.list_taskdefs()}
        recheck(plan, current)
    else:
        current = {i.name: i.actual for i in items if i.actual is not None}
    overwritten = [current[i.name] for i in items if current.get(i.name) is not None]
    if overwritten:
        result.backup = str(write_backup(state_dir, "upload", overwritten, server_url=plan.server_url))
    bodies = [body_for(i, current.get(i.name)) for i in items]
    done = 0
    failure: ConductorError | None = None
    failed_batch: list[PlanItem] = []
    stopped: list[PlanItem] = []
    for start in range(0, len(items), max(1, batch_size)):
        batch = items[start:start + batch_size]
        if requested(interruption):
            stopped = items[start:]
            break
        try:
            client.upsert_taskdefs(bodies[start:start + batch_size])
        except ConductorError as exc:
            failure, failed_batch = exc, batch
            break
        done += len(batch)
        if progress:
            progress(done, len(items))
    _verify(client, items[:len(items) - len(stopped)], result, failure, failed_batch)
    result.not_attempted += [i.name for i in stopped]
    result.interrupted = bool(stopped) or requested(interruption)
    if isinstance(failure, TransientError) and not result.ok:
        result.transient = failure
    result.requests = _delta(client, before)
    return result


def _verify(client, items: list[PlanItem], result: ApplyResult, failure: ConductorError | None,
            failed_batch: list[PlanItem]) -> None:
    """Read back once and sort every planned item into written, failed or not attempted."""
    try:
        server = {d["name"]: d for d in client.list_taskdefs()}
    except ConductorError as exc:
        reason = f"could not read back to verify: {exc.message}"
        for item in items:
            result.failed.append({"name": item.name, "errors": [reason]})
        return
    failed_names = {i.name for i in failed_batch}
    for item in items:
        copy = server.get(item.name)
        if not mismatches(item, copy):
            (result.created if item.action == CREATE else result.updated).append(item.name)
        elif item.name in failed_names and failure is not None:
            errors = failure.errors if isinstance(failure, ValidationFailed) and failure.errors else [failure.message]
            result.failed.append({"name": item.name, "errors": errors})
        elif failure is not None:
            result.not_attempted.append(item.name)
        else:
            result.failed.append({"name": item.name, "errors": ["verify failed: " + ", ".join(mismatches(item, copy))]})


def mismatches(item: PlanItem, copy: dict[str, Any] | None) -> list[str]:
    """Why the server copy does not hold what `item` planned (empty: it does)."""
    if copy is None:
        return ["missing on the server after the write"]
    diff = taskdef.field_differences(item.desired or {}, copy)
    errors = [f"{f}: server has {old!r}, planned {new!r}" for f, (old, new) in diff.items()]
    stamp_seen = parse_provenance(copy.get("description"))
    # Content, not identity: a concurrent upload of the same definitions stamps another
    # time, and the server still holds exactly what was planned.
    if item.provenance is not None and (stamp_seen is None or stamp_seen.hash != item.provenance.hash):
        errors.append("no idflow stamp for this content (written over by someone else?)")
    return errors


def _delta(client, before: dict[str, int]) -> dict[str, int]:
    return {m: n - before.get(m, 0) for m, n in client.stats.by_method.items() if n - before.get(m, 0)}


__all__ = ["ApplyResult", "apply_plan", "body_for", "mismatches", "recheck", "UPDATE"]
