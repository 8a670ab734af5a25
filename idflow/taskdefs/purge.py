"""Purge: decide what may be deleted (pure), then back up and delete (bounded concurrency).

Nothing a workflow uses is deleted unless forced; usage that cannot be known
(a task that chooses at run time what it runs, see idflow.taskdefs.usage) counts as use. Definitions idflow never
uploaded ("foreign") are only deleted when asked for by name or with
include_foreign. Every deleted definition is in a backup first.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from idflow.conductor.paths import addressable
from idflow.base.errors import UnaddressableName
from idflow.base.interrupt import Interruption
from idflow.engine.write import Write, WriteResult, execute
from idflow.base.progress import Progress
from idflow.taskdefs.kind import DELETE_CONCURRENCY, deletes
from idflow.taskdefs.plan import FOREIGN, ORPHANED, UNCERTAIN, Plan



@dataclass(frozen=True)
class Deletion:
    """One task definition a purge deletes, why (named, orphaned, foreign), and any uses --force overrides."""
    name: str
    reason: str                      # "named" | "orphaned" | "foreign"
    server_copy: dict[str, Any]
    forced_uses: tuple[str, ...] = ()  # uses overridden by --force (shown loudly)
    note: str = ""


@dataclass(frozen=True)
class Skip:
    """One task definition a purge keeps, why, and the workflows that use it."""
    name: str
    reason: str
    used_by: tuple[str, ...] = ()


@dataclass
class PurgePlan:
    """What a task-definition purge would do: deletions, definitions kept, and what makes usage unknowable."""
    deletions: list[Deletion] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    uncertain: tuple[str, ...] = ()   # every workflow task that makes usage unknowable (where, why)

    def to_json(self) -> dict[str, Any]:
        return {"delete": [{"name": d.name, "reason": d.reason, "forced_uses": list(d.forced_uses), "note": d.note,
                            "server_copy": d.server_copy} for d in self.deletions],
                "skipped": [{"name": s.name, "reason": s.reason, "used_by": list(s.used_by)} for s in self.skipped],
                "uncertain": list(self.uncertain)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PurgePlan":
        return cls(deletions=[Deletion(d["name"], d["reason"], d["server_copy"], tuple(d.get("forced_uses", ())),
                                       d.get("note", "")) for d in data.get("delete", [])],
                   skipped=[Skip(s["name"], s["reason"], tuple(s.get("used_by", ()))) for s in data.get("skipped", [])],
                   uncertain=tuple(data.get("uncertain", ())))


DELETED = ("deleted",)
PurgeResult = WriteResult   # the engine's account, its one action "deleted"


def plan_purge(plan: Plan, usage, *, names: Iterable[str] = (), orphaned: bool = False,
               include_foreign: bool = False, force: bool = False) -> PurgePlan:
    """Which remote definitions go and which stay (and why). `plan` is a full sync plan.

    Linear in the plan's size: one lookup per candidate, nothing rebuilt per name.
    """
    doubts = tuple(str(u) for u in getattr(usage, "uncertain", ()))
    result = PurgePlan(uncertain=doubts)
    candidates: dict[str, str] = {}          # name -> reason, in the order decided
    for name in dict.fromkeys(names):
        item = plan.item(name)
        if item is None or item.actual is None:
            result.skipped.append(Skip(name, "not on the server"))
        else:
            candidates[name] = "named"
    if orphaned:
        for item in plan.of(ORPHANED):
            candidates.setdefault(item.name, "orphaned")
        for item in plan.of(UNCERTAIN):
            if item.name not in candidates:
                result.skipped.append(Skip(item.name, f"uncertain, kept: {item.reason}"))
        for item in plan.of(FOREIGN):
            if item.name in candidates:
                continue
            if item.owner:  # someone's for certain: only ever deleted by name
                result.skipped.append(Skip(item.name, f"not ours: uploaded by idflow project {item.owner} "
                                                      "(delete it by name if it really must go)"))
            elif include_foreign:
                candidates.setdefault(item.name, "foreign")
            else:
                result.skipped.append(Skip(item.name, "foreign: not uploaded by idflow (use --include-foreign)"))
    uncertain_skip = _uncertain_skip_reason(doubts)
    shown_doubts = doubts[:MAX_DOUBTS_SHOWN]
    for name, reason in candidates.items():
        item = plan.item(name)
        uses = tuple(str(u) for u in usage.uses_of(name))
        verdict = usage.verdict(name)
        note = "still has a local task file: the next upload recreates it" if item.desired is not None else ""
        if verdict == "unused":
            result.deletions.append(Deletion(name, reason, item.actual, note=note))
        elif force:
            forced = uses or tuple(f"usage uncertain: {doubt}" for doubt in shown_doubts)
            result.deletions.append(Deletion(name, reason, item.actual, forced_uses=forced, note=note))
        elif verdict == "used":
            result.skipped.append(Skip(name, "used by workflows (--force to delete anyway)", uses))
        else:
            result.skipped.append(Skip(name, uncertain_skip, shown_doubts))
    return result


# An uncertain skip names the workflows that made it so; the purge plan's `uncertain` lists them all.
MAX_DOUBTS_SHOWN = 10


def _uncertain_skip_reason(doubts: tuple[str, ...]) -> str:
    if not doubts:
        return ""
    return (f"usage uncertain: {len(doubts)} workflow task(s) choose at run time what they run, "
            f"e.g. {doubts[0]}; --force to delete anyway")


def refuse_unaddressable(purge: PurgePlan) -> PurgePlan:
    """Keep out of the deletions every name the server cannot address exactly (pure).

    A name asked for explicitly refuses the whole run (exit 3): the user named it, and a
    partial purge would look like success. An orphan or foreign definition the user did
    not name is only kept, with the reason: one such definition must not block every
    later `--orphaned` run (a scheduled `sync --prune` would never succeed again).
    """
    named = [(d.name, reason) for d in purge.deletions if d.reason == "named" and (reason := addressable(d.name))]
    if named:
        raise UnaddressableName(named)
    keep, skipped = [], list(purge.skipped)
    for deletion in purge.deletions:
        reason = addressable(deletion.name)
        if reason:
            skipped.append(Skip(deletion.name, f"cannot be deleted exactly on this server: {reason}"))
        else:
            keep.append(deletion)
    if len(keep) == len(purge.deletions):
        return purge
    return replace(purge, deletions=keep, skipped=skipped)


def execute_purge(client, purge: PurgePlan, *, state_dir: Path, server_url: str = "",
                  concurrency: int = DELETE_CONCURRENCY, interruption: Interruption | None = None,
                  progress: Progress | None = None) -> WriteResult:
    """Back up, delete (eight at a time), read the list back once: the result is what the server holds.

    Refuses (before the backup, before any delete) a plan naming a definition the server
    cannot address exactly; `refuse_unaddressable` should have kept it out already.
    """
    unaddressable = [(d.name, reason) for d in purge.deletions if (reason := addressable(d.name))]
    if unaddressable:
        raise UnaddressableName(unaddressable)
    writes = [Write(d.name, "deleted", replaces=d.server_copy) for d in purge.deletions]
    return execute(client, writes, deletes(concurrency=concurrency), state_dir=state_dir, reason="purge",
                   actions=DELETED, server_url=server_url, progress=progress, interruption=interruption)
