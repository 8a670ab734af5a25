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

from idflow.base.errors import UnaddressableName, WorkflowsRefused
from idflow.base.interrupt import Interruption
from idflow.conductor.paths import addressable
from idflow.engine.write import Write, WriteResult, execute
from idflow.workflowdefs.kind import KIND as BACKUP_KIND, upserts
from idflow.workflowdefs.sync import CREATE, UNCHANGED, UPDATE, WorkflowItem, WorkflowPlan, issue_json, version_of

Key = tuple[str, int]                                # (name, version)
WRITTEN = ("created", "updated")


def key_of(definition: dict[str, Any]) -> Key:
    return str(definition.get("name")), version_of(definition)


def label(key: Key) -> str:
    return f"{key[0]} v{key[1]}"


# ---- workflows upload -------------------------------------------------------------------------
@dataclass
class UploadResult:
    """`workflows upload`: the plan, and what was written and read back (nothing on a dry run)."""
    plan: WorkflowPlan
    dry_run: bool
    result: WriteResult = field(default_factory=lambda: WriteResult.empty(WRITTEN))

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def backup(self) -> str | None:
        return self.result.backup

    def _items(self, refs: Iterable[Any]) -> list[WorkflowItem]:
        wanted = {(r["name"], r["version"]) for r in refs}
        return [i for i in self.plan.to_write if (i.name, i.version) in wanted]

    @property
    def written(self) -> list[WorkflowItem]:
        return self._items(self.result.created + self.result.updated)

    @property
    def not_attempted(self) -> list[WorkflowItem]:
        return self._items(self.result.not_attempted)

    def to_json(self) -> dict[str, Any]:
        def labels(items: Iterable[WorkflowItem]) -> list[dict[str, Any]]:
            return [i.brief() for i in items]

        creates, updates = self.plan.of(CREATE), self.plan.of(UPDATE)
        return {**self.result.to_json(), "dry_run": self.dry_run,
                "unchanged": labels(self.plan.of(UNCHANGED)),
                "would_create": labels(creates) if self.dry_run else [],
                "would_update": labels(updates) if self.dry_run else [],
                "changes": {i.label: [asdict(c) for c in i.changes] for i in updates},
                "not_uploaded_tasks": {i.label: list(i.not_uploaded) for i in self.plan.items if i.not_uploaded},
                "errors": [issue_json(i) for i in self.plan.issues]}


def write_versions(client: Any, items: Iterable[tuple[dict[str, Any], str, dict[str, Any],
                                                      dict[str, Any] | None]], *,
                   state_dir: Path | None, reason: str, actions: Iterable[str], server_url: str = "",
                   batch_size: int = 500, interruption: Interruption | None = None) -> WriteResult:
    """(ref, action, body, replaces) per version, through the engine: what upload and restore share."""
    writes = [Write(ref, action, body, replaces) for ref, action, body, replaces in items]
    return execute(client, writes, upserts(batch_size), state_dir=state_dir, reason=reason, actions=actions,
                   server_url=server_url, interruption=interruption)


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
    if dry_run or not plan.to_write:
        return UploadResult(plan, dry_run)
    items = [(i.brief(), "created" if i.action == CREATE else "updated", i.desired or {},
              i.actual if i.action == UPDATE else None) for i in plan.to_write]
    return UploadResult(plan, dry_run, write_versions(client, items, state_dir=state_dir, reason="workflows-upload",
                                                      actions=WRITTEN, server_url=server_url,
                                                      batch_size=batch_size, interruption=interruption))
