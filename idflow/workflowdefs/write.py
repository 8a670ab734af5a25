"""Write workflow definitions: PUT in batches, stop between batches, read each attempted one back.

`write_workflows` is the loop `workflows upload` (`upload_workflows`, here) and `workflows
restore` share. A signal (see idflow.base.interrupt) or a
failed batch stops the loop; what follows is not attempted. The account comes from the
read-back, never from the answers: a version is written only if the server then holds it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.engine.backups import write_backup
from idflow.conductor.paths import addressable
from idflow.base.errors import ConductorError, NotFound, UnaddressableName, WorkflowsRefused
from idflow.base.interrupt import Interruption, requested, writing
from idflow.workflowdefs.sync import (CREATE, UNCHANGED, UPDATE, WorkflowItem, WorkflowPlan, differences, issue_json,
                                      version_of)

Key = tuple[str, int]                                # (name, version)
BACKUP_KIND = "workflows"


def key_of(definition: dict[str, Any]) -> Key:
    return str(definition.get("name")), version_of(definition)


def label(key: Key) -> str:
    return f"{key[0]} v{key[1]}"


@dataclass
class WorkflowWrites:
    """What the server holds after the writes, per (name, version)."""

    written: list[Key] = field(default_factory=list)                 # the server holds exactly the body
    mismatched: dict[Key, list[Any]] = field(default_factory=dict)  # answered OK, holds something else (WorkflowChange)
    errors: dict[Key, list[str]] = field(default_factory=dict)      # the write (or its read-back) failed
    not_attempted: list[Key] = field(default_factory=list)          # after a failed batch or a signal
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.mismatched and not self.errors and not self.not_attempted


def write_workflows(client: Any, bodies: Iterable[dict[str, Any]], *, batch_size: int = 500,
                    interruption: Interruption | None = None) -> WorkflowWrites:
    """PUT the bodies in batches (a signal stops between them), then read each attempted one back."""
    bodies = list(bodies)
    writes = WorkflowWrites()
    answers: dict[Key, str] = {}
    attempted: list[dict[str, Any]] = []
    size = max(1, batch_size)
    with writing(interruption):
        for start in range(0, len(bodies), size):
            batch = bodies[start:start + size]
            if requested(interruption):
                writes.not_attempted = [key_of(b) for b in bodies[start:]]
                break
            attempted += batch
            try:
                client.upsert_workflows(batch)
            except ConductorError as exc:
                answers.update({key_of(b): exc.message for b in batch})
                writes.not_attempted = [key_of(b) for b in bodies[start + size:]]
                break
        writes.interrupted = requested(interruption)
        _read_back(client, attempted, answers, writes)
    return writes


def _read_back(client: Any, attempted: list[dict[str, Any]], answers: dict[Key, str],
               writes: WorkflowWrites) -> None:
    for body in attempted:
        key = key_of(body)
        answer = [answers[key]] if key in answers else []
        try:
            stored = client.get_workflow(key[0], key[1])
        except NotFound:
            stored = None
        except ConductorError as exc:
            writes.errors[key] = answer + [f"could not read back to verify: {exc.message}"]
            continue
        left = differences(stored, body) if isinstance(stored, dict) else None
        if left == []:
            writes.written.append(key)      # whatever the PUT answered, the server holds it
        elif answer:
            writes.errors[key] = answer
        elif left is None:
            writes.errors[key] = ["not on the server after the write"]
        else:
            writes.mismatched[key] = left


def failure_json(key: Key, writes: WorkflowWrites) -> list[str]:
    """Why `key` is not written (empty: it is, or it was never attempted)."""
    if key in writes.mismatched:
        return [f"verify failed: the server stored {c.path} as {c.old!r}, the source says {c.new!r}"
                for c in writes.mismatched[key]]
    return list(writes.errors.get(key, []))


# ---- workflows upload -------------------------------------------------------------------------
@dataclass
class UploadResult:
    plan: WorkflowPlan
    dry_run: bool
    writes: WorkflowWrites = field(default_factory=WorkflowWrites)
    backup: str | None = None

    @property
    def ok(self) -> bool:
        return self.writes.ok

    def _items(self, keys: Iterable[Key]) -> list[WorkflowItem]:
        wanted = set(keys)
        return [i for i in self.plan.to_write if (i.name, i.version) in wanted]

    @property
    def written(self) -> list[WorkflowItem]:
        return self._items(self.writes.written)

    @property
    def mismatched(self) -> list[tuple[WorkflowItem, list[Any]]]:
        return [(i, self.writes.mismatched[(i.name, i.version)]) for i in self._items(self.writes.mismatched)]

    @property
    def failed(self) -> list[WorkflowItem]:
        return self._items([*self.writes.mismatched, *self.writes.errors])

    @property
    def not_attempted(self) -> list[WorkflowItem]:
        return self._items(self.writes.not_attempted)

    def to_json(self) -> dict[str, Any]:
        def labels(items: Iterable[WorkflowItem]) -> list[dict[str, Any]]:
            return [i.brief() for i in items]

        creates, updates = self.plan.of(CREATE), self.plan.of(UPDATE)
        written = self.written
        return {"dry_run": self.dry_run,
                "created": [i.brief() for i in written if i.action == CREATE],
                "updated": [i.brief() for i in written if i.action == UPDATE],
                "unchanged": labels(self.plan.of(UNCHANGED)),
                "would_create": labels(creates) if self.dry_run else [],
                "would_update": labels(updates) if self.dry_run else [],
                "changes": {i.label: [asdict(c) for c in i.changes] for i in updates},
                "not_uploaded_tasks": {i.label: list(i.not_uploaded) for i in self.plan.items if i.not_uploaded},
                "failed": [{**i.brief(), "errors": failure_json((i.name, i.version), self.writes)}
                           for i in self.failed],
                "not_attempted": labels(self.not_attempted),
                "interrupted": self.writes.interrupted,
                "backup": self.backup,
                "errors": [issue_json(i) for i in self.plan.issues]}


def upload_workflows(client: Any, plan: WorkflowPlan, *, dry_run: bool = False, state_dir: Path | None = None,
                     server_url: str = "", batch_size: int = 500,
                     interruption: Interruption | None = None) -> UploadResult:
    """Back up what an update replaces, write creates and updates in batches, read each back."""
    if plan.refused:
        raise WorkflowsRefused(plan)
    # Written by body, read back by URL path: a name the path cannot carry could never be read back or deleted.
    unaddressable = [(i.name, reason) for i in plan.to_write if (reason := addressable(i.name))]
    if unaddressable:
        raise UnaddressableName(unaddressable, what="workflow")
    result = UploadResult(plan, dry_run)
    if dry_run or not plan.to_write:
        return result
    replaced = [i.actual for i in plan.of(UPDATE) if i.actual is not None]
    if replaced and state_dir is not None:
        result.backup = str(write_backup(state_dir, "workflows-upload", replaced, server_url=server_url,
                                         kind=BACKUP_KIND))
    result.writes = write_workflows(client, [i.desired or {} for i in plan.to_write], batch_size=batch_size,
                                    interruption=interruption)
    return result
