"""Restore workflow definitions from a backup: a plan per (name, version), then the shared write loop.

A backup holds server copies exactly as they were read (`kind="workflows"`). A restore puts
each version back as it was: a version the server holds differently is overwritten (its
current copy backed up first), a missing one is created, an identical one is left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.engine.backups import read_backup
from idflow.engine.write import WriteResult
from idflow.conductor.paths import addressable
from idflow.base.errors import IdflowError, InputFileError, UnaddressableName
from idflow.base.interrupt import Interruption
from idflow.workflowdefs.sync import MANAGED, differences, version_of
from idflow.workflowdefs.write import BACKUP_KIND, Key, key_of, label, write_versions

CREATE, OVERWRITE, SAME = "create", "overwrite", "same"


@dataclass(frozen=True)
class RestoreItem:
    name: str
    version: int
    action: str                                  # create | overwrite | same
    body: dict[str, Any]                         # the backed-up copy, without what the server fills in
    current: dict[str, Any] | None = None        # the server copy it would replace

    @property
    def key(self) -> Key:
        return self.name, self.version

    def brief(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version}


@dataclass
class WorkflowRestorePlan:
    source: str
    items: list[RestoreItem]

    def of(self, action: str) -> list[RestoreItem]:
        return [i for i in self.items if i.action == action]

    @property
    def to_write(self) -> list[RestoreItem]:
        return [i for i in self.items if i.action != SAME]

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "restore": [i.brief() for i in self.to_write],
                "overwrite": [i.brief() for i in self.of(OVERWRITE)], "create": [i.brief() for i in self.of(CREATE)],
                "unchanged": [i.brief() for i in self.of(SAME)]}


RESTORED = ("restored",)


@dataclass
class WorkflowRestoreOutcome:
    plan: WorkflowRestorePlan
    dry_run: bool = False
    result: WriteResult = field(default_factory=lambda: WriteResult.empty(RESTORED))

    @property
    def ok(self) -> bool:
        return self.result.ok

    @property
    def backup(self) -> str | None:                # the server copies the restore overwrote
        return self.result.backup

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "dry_run": self.dry_run, **self.result.to_json()}


def restorable(definition: dict[str, Any]) -> dict[str, Any]:
    """A backed-up workflow in the form to PUT back (what the server fills in dropped)."""
    return {k: v for k, v in definition.items() if k not in MANAGED}


def _backed_up(path: Path) -> list[dict[str, Any]]:
    document = read_backup(path, BACKUP_KIND)
    found: dict[Key, dict[str, Any]] = {}
    for index, entry in enumerate(document[BACKUP_KIND]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise IdflowError(f"backup {path}: entry {index} is not a workflow definition (no name)")
        version = entry.get("version", 1)
        if not isinstance(version, int) or isinstance(version, bool) or not 0 < version <= 2**31 - 1:
            raise InputFileError(path, f"entry {index} ({entry['name'][:80]!r}) has version {repr(version)[:40]}: "
                                       "a workflow version is a whole number from 1", what="backup")
        if not isinstance(entry.get("tasks", []), list):
            raise InputFileError(path, f"entry {index} ({entry['name'][:80]!r}) has tasks that are not a list",
                                 what="backup")
        key = key_of(entry)
        if key in found and differences(found[key], entry):
            raise IdflowError(f"backup {path} holds {label(key)} twice, differently: restore one by hand")
        found[key] = entry
    return list(found.values())


def plan_workflow_restore(path: Path, names: Iterable[str] | None,
                          remote: Iterable[dict[str, Any]]) -> WorkflowRestorePlan:
    """Each backed-up version (all, or those of the named workflows) against the server's copy."""
    wanted = list(dict.fromkeys(names or []))
    chosen = [d for d in _backed_up(path) if not wanted or d["name"] in wanted]
    missing = [n for n in wanted if n not in {d["name"] for d in chosen}]
    if missing:
        raise IdflowError(f"not in backup {path}: {', '.join(missing)}")
    server = {key_of(d): d for d in remote if isinstance(d, dict)}
    items = []
    for definition in sorted(chosen, key=lambda d: (d["name"], version_of(d))):
        key, body = key_of(definition), restorable(definition)
        current = server.get(key)
        action = CREATE if current is None else OVERWRITE if differences(current, body) else SAME
        items.append(RestoreItem(key[0], key[1], action, body, current))
    return WorkflowRestorePlan(str(path), items)


def execute_workflow_restore(client: Any, plan: WorkflowRestorePlan, *, state_dir: Path, server_url: str = "",
                             batch_size: int = 500,
                             interruption: Interruption | None = None) -> WorkflowRestoreOutcome:
    """Back up what it overwrites, write in batches (a signal stops between them), read each back."""
    unaddressable = [(i.name, reason) for i in plan.to_write if (reason := addressable(i.name))]
    if unaddressable:  # it could be written, but never read back or deleted exactly
        raise UnaddressableName(unaddressable, what="workflow")
    items = [(i.brief(), "restored", i.body, i.current if i.action == OVERWRITE else None) for i in plan.to_write]
    return WorkflowRestoreOutcome(plan, result=write_versions(
        client, items, state_dir=state_dir, reason="workflows-restore", actions=RESTORED, server_url=server_url,
        batch_size=batch_size, interruption=interruption))
