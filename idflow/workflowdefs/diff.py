"""`workflows diff`: per (name, version), local vs server field by field as JSON values, with the three-way
state (idflow.workflowdefs.ownership); pure."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from idflow.engine.ledger import Ledger
from idflow.provenance.seen import SeenInGit
from idflow.workflowdefs.files import FileIssue
from idflow.workflowdefs.ownership import ORPHANED, Ownership, orphan_ownership, ownership
from idflow.workflowdefs.sync import CREATE, REMOTE_ONLY, UPDATE, WorkflowChange, WorkflowPlan, issue_json


@dataclass(frozen=True)
class VersionDiff:
    """One workflow version in `workflows diff`: the action, the three-way state and the fields that differ."""
    name: str
    version: int
    action: str                                  # create | update | unchanged | remote_only
    state: Ownership
    path: str | None = None                      # the local file
    changes: tuple[WorkflowChange, ...] = ()     # old: the server's value, new: the file's (None: not set)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "version": self.version, "path": self.path, "action": self.action,
                **self.state.to_json(),
                "changes": [{"path": c.path, "server": c.old, "local": c.new} for c in self.changes]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "VersionDiff":
        return cls(data["name"], data["version"], data["action"], Ownership.from_json(data), data.get("path"),
                   tuple(WorkflowChange(c["path"], c["server"], c["local"]) for c in data.get("changes", [])))


@dataclass
class WorkflowDiff:
    """`workflows diff`: every workflow version compared, the file errors, and whether the project has an identity."""
    items: list[VersionDiff] = field(default_factory=list)
    errors: list[FileIssue] = field(default_factory=list)
    identity: bool = True                        # False: no project identity, so no ledger and no base

    @property
    def drift(self) -> bool:
        """Something an upload would write, or a version of this project's whose file is gone (as `tasks diff`)."""
        return any(i.action in (CREATE, UPDATE) or i.state.state == ORPHANED for i in self.items)

    def counts(self) -> dict[str, int]:
        """How many versions are in each state."""
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.state.state] = counts.get(item.state.state, 0) + 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {"drift": self.drift, "counts": self.counts(), "items": [i.to_json() for i in self.items],
                "errors": [issue_json(e) for e in self.errors], "identity": self.identity}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WorkflowDiff":
        return cls([VersionDiff.from_json(i) for i in data.get("items", [])],
                   [FileIssue(e["path"], e["line"], e["message"]) for e in data.get("errors", [])],
                   bool(data.get("identity", True)))


def diff_workflows(plan: WorkflowPlan, ledger: Ledger | None, seen: SeenInGit | None,
                   names: Iterable[str] = ()) -> WorkflowDiff:
    """Every item of a plan made with the server-only versions (of the names asked for, or all), with its state
    (`seen`: what this clone's Git history held, None: not in Git)."""
    wanted = set(names)
    items = []
    for item in plan.items:
        if wanted and item.name not in wanted:
            continue
        if item.action == REMOTE_ONLY:
            state = orphan_ownership(item.name, item.version, item.actual, ledger, seen)
        else:
            state = ownership(item.name, item.version, item.desired, item.actual, ledger)
        items.append(VersionDiff(item.name, item.version, item.action, state, item.path, item.changes))
    return WorkflowDiff(items, list(plan.issues), ledger is not None)
