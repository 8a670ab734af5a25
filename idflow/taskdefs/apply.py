"""Apply a plan: back up, merge, write in batches, read back and verify.

Writes only what the plan says, merged into the server's current copy so fields
others set survive. On a failure mid-way it reads the server once more to say
exactly which definitions were written and which were not; a rerun converges
because the next plan sees what is there and writes nothing twice.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from idflow.base.errors import RefusedError
from idflow.base.interrupt import Interruption
from idflow.base.progress import Progress
from idflow.engine.write import Write, WriteResult, execute
from idflow.provenance.trailer import parse_provenance, stamp
from idflow.model import fields as taskdef
from idflow.taskdefs.kind import upserts
from idflow.taskdefs.plan import CREATE, UPDATE, Plan, PlanItem, fingerprint

ACTIONS = ("created", "updated")
ApplyResult = WriteResult


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
               progress: Progress | None = None, interruption: Interruption | None = None) -> WriteResult:
    """Write the plan's creates and updates, merged into the server's copies, through the write engine."""
    items = plan.to_write
    if not items:
        return WriteResult.empty(ACTIONS)
    if recheck_server:
        if not plan.server_url:  # a saved plan must say where it was made, or any server would do
            raise RefusedError("the plan names no server, so it cannot be checked against this one; "
                               "nothing was written", hint="make a fresh plan with 'idflow tasks diff --out plan.json'")
        current = {d["name"]: d for d in client.list_taskdefs()}
        recheck(plan, current)
    else:
        current = {i.name: i.actual for i in items if i.actual is not None}
    planned = {i.name: i for i in items}
    writes = [Write(i.name, "created" if i.action == CREATE else "updated", body_for(i, current.get(i.name)),
                    replaces=current.get(i.name)) for i in items]
    target = upserts(batch_size, expect=lambda write, held: mismatches(planned[write.key], held))
    return execute(client, writes, target, state_dir=state_dir, reason="upload", actions=ACTIONS,
                   server_url=plan.server_url, progress=progress, interruption=interruption)


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


__all__ = ["ACTIONS", "ApplyResult", "apply_plan", "body_for", "mismatches", "recheck", "UPDATE"]
