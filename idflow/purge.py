"""Purge: decide what may be deleted (pure), then back up and delete (bounded concurrency).

Nothing a workflow uses is deleted unless forced; usage that cannot be known
(DYNAMIC / FORK_JOIN_DYNAMIC tasks) counts as use. Definitions idflow never
uploaded ("foreign") are only deleted when asked for by name or with
include_foreign. Every deleted definition is in a backup first.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.backups import write_backup
from idflow.errors import ConductorError, NotFound
from idflow.plan import FOREIGN, ORPHANED, Plan

DELETE_CONCURRENCY = 8


@dataclass(frozen=True)
class Deletion:
    name: str
    reason: str                      # "named" | "orphaned" | "foreign"
    server_copy: dict[str, Any]
    forced_uses: tuple[str, ...] = ()  # uses overridden by --force (shown loudly)
    note: str = ""


@dataclass(frozen=True)
class Skip:
    name: str
    reason: str
    used_by: tuple[str, ...] = ()


@dataclass
class PurgePlan:
    deletions: list[Deletion] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    uncertain: tuple[str, ...] = ()   # where dynamic tasks make usage unknowable

    def to_json(self) -> dict[str, Any]:
        return {"delete": [{"name": d.name, "reason": d.reason, "forced_uses": list(d.forced_uses), "note": d.note}
                           for d in self.deletions],
                "skipped": [{"name": s.name, "reason": s.reason, "used_by": list(s.used_by)} for s in self.skipped],
                "uncertain": list(self.uncertain)}


@dataclass
class PurgeResult:
    deleted: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    backup: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failed


def plan_purge(plan: Plan, usage, *, names: Iterable[str] = (), orphaned: bool = False,
               include_foreign: bool = False, force: bool = False) -> PurgePlan:
    """Which remote definitions go and which stay (and why). `plan` is a full sync plan."""
    result = PurgePlan(uncertain=tuple(str(u) for u in getattr(usage, "uncertain", ())))
    candidates: list[tuple[str, str]] = []
    for name in dict.fromkeys(names):
        item = plan.item(name)
        if item is None or item.actual is None:
            result.skipped.append(Skip(name, "not on the server"))
        else:
            candidates.append((name, "named"))
    if orphaned:
        candidates += [(i.name, "orphaned") for i in plan.of(ORPHANED) if i.name not in dict(candidates)]
        foreign = plan.of(FOREIGN)
        if include_foreign:
            candidates += [(i.name, "foreign") for i in foreign if i.name not in dict(candidates)]
        else:
            result.skipped += [Skip(i.name, "foreign: not uploaded by idflow (use --include-foreign)") for i in foreign
                               if i.name not in dict(candidates)]
    for name, reason in candidates:
        item = plan.item(name)
        uses = tuple(str(u) for u in usage.uses_of(name))
        verdict = usage.verdict(name)
        note = "still has a local task file: the next upload recreates it" if item.desired is not None else ""
        if verdict == "unused":
            result.deletions.append(Deletion(name, reason, item.actual, note=note))
        elif force:
            forced = uses or ("usage uncertain: workflows with dynamic tasks",)
            result.deletions.append(Deletion(name, reason, item.actual, forced_uses=forced, note=note))
        elif verdict == "used":
            result.skipped.append(Skip(name, "used by workflows (--force to delete anyway)", uses))
        else:
            result.skipped.append(Skip(name, "usage uncertain: some workflows pick tasks at run time "
                                             "(DYNAMIC / FORK_JOIN_DYNAMIC); --force to delete anyway",
                                       result.uncertain))
    return result


def execute_purge(client, purge: PurgePlan, *, state_dir: Path, server_url: str = "",
                  concurrency: int = DELETE_CONCURRENCY) -> PurgeResult:
    result = PurgeResult()
    if not purge.deletions:
        return result
    result.backup = str(write_backup(state_dir, "purge", [d.server_copy for d in purge.deletions],
                                     server_url=server_url))

    def delete(deletion: Deletion) -> tuple[str, str | None]:
        try:
            client.delete_taskdef(deletion.name)
        except NotFound:
            return deletion.name, None  # already gone: the goal is met
        except ConductorError as exc:
            return deletion.name, exc.message
        return deletion.name, None

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        for name, error in pool.map(delete, purge.deletions):
            if error is None:
                result.deleted.append(name)
            else:
                result.failed.append({"name": name, "errors": [error]})
    return result
