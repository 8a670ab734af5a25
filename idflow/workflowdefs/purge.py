"""`workflows purge`: which server versions go and which stay, and why (pure); deletes go through the engine.

Candidates: every server version of each name asked for, or (`orphaned`) every version this project's ledger
says it wrote, unchanged since, whose local file is gone, from a commit in this clone's history which held it as
the server has it (idflow.workflowdefs.ownership, idflow.provenance.seen: else a clone ahead wrote it). A version
not ours or uncertain is kept with the reason. A candidate is then kept unless forced when a RUNNING execution uses
it, when a workflow, event handler or schedule uses it (idflow.workflowdefs.usage), or when usage cannot be known.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import UnaddressableName
from idflow.base.interrupt import Interruption
from idflow.conductor.paths import addressable
from idflow.engine.write import Write, WriteResult, execute
from idflow.engine.ledger import Ledger
from idflow.provenance.seen import SeenInGit
from idflow.workflowdefs.files import LocalWorkflow
from idflow.workflowdefs.kind import deletes
from idflow.workflowdefs.ownership import ORPHANED, orphan_ownership, ownership
from idflow.workflowdefs.sync import version_of
from idflow.workflowdefs.usage import WorkflowUsage

DELETED = ("deleted",)
MAX_SHOWN = 10
Key = tuple[str, int]


@dataclass(frozen=True)
class VersionDeletion:
    """One workflow version a purge deletes, why (named or orphaned), and any uses --force overrides."""
    name: str
    version: int
    reason: str                              # "named" | "orphaned"
    server_copy: dict[str, Any]
    forced_uses: tuple[str, ...] = ()        # uses (and running executions) overridden by --force
    note: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "reason": self.reason,
                "forced_uses": list(self.forced_uses), "note": self.note, "server_copy": self.server_copy}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VersionDeletion":
        return cls(data["name"], data["version"], data["reason"], data["server_copy"],
                   tuple(data.get("forced_uses", ())), data.get("note", ""))


@dataclass(frozen=True)
class VersionSkip:
    """One workflow version (or a name not on the server) a purge keeps, why, and what uses it."""
    name: str
    version: int | None                      # None: the name is not on the server
    reason: str
    used_by: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.name if self.version is None else f"{self.name} v{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "reason": self.reason, "used_by": list(self.used_by)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VersionSkip":
        return cls(data["name"], data.get("version"), data["reason"], tuple(data.get("used_by", ())))


@dataclass
class WorkflowPurgePlan:
    """What a workflow purge would do: versions deleted and kept, what makes usage unknowable, what went unchecked."""
    deletions: list[VersionDeletion] = field(default_factory=list)
    skipped: list[VersionSkip] = field(default_factory=list)
    uncertain: tuple[str, ...] = ()          # every place that makes usage unknowable
    notes: tuple[str, ...] = ()              # what could not be checked (e.g. the server has no schedules)

    def to_json(self) -> dict[str, Any]:
        return {"delete": [d.to_json() for d in self.deletions], "skipped": [s.to_json() for s in self.skipped],
                "uncertain": list(self.uncertain), "notes": list(self.notes)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WorkflowPurgePlan":
        return cls([VersionDeletion.from_json(d) for d in data.get("delete", [])],
                   [VersionSkip.from_json(s) for s in data.get("skipped", [])],
                   tuple(data.get("uncertain", ())), tuple(data.get("notes", ())))


@dataclass(frozen=True)
class Candidate:
    """One server workflow version a purge may delete, before its uses and running executions are checked."""
    name: str
    version: int
    reason: str
    server_copy: dict[str, Any]
    note: str = ""


def purge_candidates(server: list[dict[str, Any]], local: list[LocalWorkflow], ledger: Ledger | None,
                     seen: SeenInGit | None, *, names: Iterable[str] = (),
                     orphaned: bool = False) -> tuple[list[Candidate], list[VersionSkip]]:
    """(versions that may go, versions kept for whose they are); a name asked for that cannot be deleted
    exactly refuses the run (exit 3). `seen`: what this clone's Git history held (None: not in Git)."""
    by_key = {(str(d.get("name")), version_of(d)): d for d in server if isinstance(d, dict)}
    local_keys = {(w.definition["name"], version_of(w.definition)) for w in local}
    candidates: dict[Key, Candidate] = {}
    skipped: list[VersionSkip] = []
    wanted = list(dict.fromkeys(names))
    unaddressable = [(n, why) for n in wanted if (why := addressable(n))]
    if unaddressable:
        raise UnaddressableName(unaddressable, what="workflow")
    for name in wanted:
        versions = sorted(v for n, v in by_key if n == name)
        if not versions:
            skipped.append(VersionSkip(name, None, "not on the server"))
        for version in versions:
            note = "still has a local file: the next upload recreates it" if (name, version) in local_keys else ""
            if not note and (whose := ownership(name, version, None, by_key[(name, version)], ledger)).state \
                    != ORPHANED:
                note = f"deleted because named, though {whose.state.replace('_', ' ')}: {whose.reason}"
            candidates[(name, version)] = Candidate(name, version, "named", by_key[(name, version)], note)
    if orphaned:
        for key in sorted(set(by_key) - local_keys - set(candidates), key=lambda k: (k[0], k[1])):
            state = orphan_ownership(key[0], key[1], by_key[key], ledger, seen)
            if state.state == ORPHANED and not addressable(key[0]):
                candidates[key] = Candidate(key[0], key[1], "orphaned", by_key[key])
            elif state.state == ORPHANED:
                skipped.append(VersionSkip(key[0], key[1], f"cannot be deleted exactly: {addressable(key[0])}"))
            elif ledger is None or key[0] in _ledger_names(ledger):
                skipped.append(VersionSkip(key[0], key[1], f"{state.state}: {state.reason}"))
    return list(candidates.values()), skipped


def _ledger_names(ledger: Ledger) -> set[str]:
    return {entry.rsplit(" v", 1)[0] for entry in ledger.entries}


def decide_purge(candidates: list[Candidate], skipped: list[VersionSkip], usage: WorkflowUsage,
                 running: dict[Key, list[str]], latest: dict[str, int], *, force: bool = False) -> WorkflowPurgePlan:
    """Which candidates go: none a RUNNING execution, a workflow, a handler or a schedule uses, nor (usage
    unknowable) any at all, unless forced."""
    plan = WorkflowPurgePlan(skipped=list(skipped), uncertain=tuple(usage.uncertain), notes=tuple(usage.notes))
    going = {(c.name, c.version) for c in candidates}
    for c in candidates:
        runs = tuple(f"RUNNING execution {i}" for i in running.get((c.name, c.version), []))
        uses = tuple(usage.uses_of(c.name, c.version, latest.get(c.name, c.version), ignore=going))
        doubts = tuple(usage.uncertain[:MAX_SHOWN])
        if not runs and not uses and not doubts:
            plan.deletions.append(VersionDeletion(c.name, c.version, c.reason, c.server_copy, note=c.note))
        elif force:
            forced = runs + uses + (() if uses else tuple(f"usage uncertain: {d}" for d in doubts))
            plan.deletions.append(VersionDeletion(c.name, c.version, c.reason, c.server_copy, forced, c.note))
        elif runs:
            plan.skipped.append(VersionSkip(c.name, c.version, f"{len(runs)} RUNNING execution(s) use this version "
                                            "(--force to delete anyway)", runs[:MAX_SHOWN] + uses[:MAX_SHOWN]))
        elif uses:
            plan.skipped.append(VersionSkip(c.name, c.version, "used (--force to delete anyway)", uses))
        else:
            plan.skipped.append(VersionSkip(c.name, c.version, f"usage uncertain: {len(usage.uncertain)} place(s) "
                                            f"choose at run time which workflow they start, e.g. {doubts[0]}; "
                                            "--force to delete anyway", doubts))
    return plan


def execute_workflow_purge(client: Any, plan: WorkflowPurgePlan, *, state_dir: Path | None, server_url: str = "",
                           interruption: Interruption | None = None) -> WriteResult:
    """Back up every version, delete them one by one, read each back: through the engine."""
    writes = [Write({"name": d.name, "version": d.version}, "deleted", replaces=d.server_copy)
              for d in plan.deletions]
    return execute(client, writes, deletes(), state_dir=state_dir, reason="workflows-purge", actions=DELETED,
                   server_url=server_url, interruption=interruption)
