"""`workflows history NAME` and `workflows rollback --to REV NAME...|--all`: workflow versions through Git.

A rollback plans the definitions at REV against the server like an upload (`idflow.usecases.workflows.plan`),
refuses to revert an edit made on the server since idflow wrote the version (unless told to overwrite it), and
writes through the engine: what it overwrites is backed up first, each version is read back, and the ledger
records what was written.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from idflow.base.errors import IdflowError, WorkflowFilesInvalid
from idflow.engine.write import WriteResult
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.workflow_ledger import fetch_workflow_ledger
from idflow.usecases.workflows import (load_local_workflows, plan, record_written, refuse_unseen_reverts,
                                      write_workflow_upload)
from idflow.workflowdefs.files import FileIssue
from idflow.workflowdefs.gitsource import open_workflows_tree, workflow_history, workflows_at
from idflow.workflowdefs.ownership import ownership
from idflow.workflowdefs.sync import UNCHANGED, UPDATE, WorkflowPlan, differences, version_of
from idflow.workflowdefs.write import WRITTEN


@dataclass(frozen=True)
class HistoryEntry:
    """One commit that changed a workflow's files: who, when, and each version it added, changed or removed."""
    sha: str
    author: str
    date: str
    subject: str
    versions: tuple[dict[str, Any], ...]      # {version, change, path}

    def to_json(self) -> dict[str, Any]:
        return {"sha": self.sha, "author": self.author, "date": self.date, "subject": self.subject,
                "versions": [dict(v) for v in self.versions]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "HistoryEntry":
        return cls(data["sha"], data["author"], data["date"], data["subject"], tuple(data["versions"]))


@dataclass(frozen=True)
class ServerVersion:
    """One server version of a workflow: its three-way state, and the newest commit it matches."""
    version: int
    state: str                 # the three-way state against the working tree's file (ownership)
    reason: str
    matches: str | None        # the newest commit whose definition of this version the server holds

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "state": self.state, "reason": self.reason, "matches": self.matches}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ServerVersion":
        return cls(data["version"], data["state"], data["reason"], data.get("matches"))


@dataclass
class WorkflowHistory:
    """`workflows history NAME`: the commits that changed the workflow (newest first) and its server versions."""
    name: str
    commits: list[HistoryEntry] = field(default_factory=list)   # newest first
    server: list[ServerVersion] = field(default_factory=list)
    truncated_at: tuple[str, ...] = ()                           # a shallow clone: history stops there

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "commits": [c.to_json() for c in self.commits],
                "server": [s.to_json() for s in self.server], "truncated_at": list(self.truncated_at)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WorkflowHistory":
        return cls(data["name"], [HistoryEntry.from_json(c) for c in data["commits"]],
                   [ServerVersion.from_json(s) for s in data["server"]], tuple(data.get("truncated_at", ())))


def workflows_history(session: Session, name: str) -> WorkflowHistory:
    """The commits that added, changed or removed a version of `name`, and what each server version holds."""
    config = session.config
    tree = open_workflows_tree(config.resolve(config.workflows_dir))
    steps = workflow_history(tree, name)
    server = [d for d in session.client.list_workflows() if d.get("name") == name]
    if not steps and not server:
        raise IdflowError(f"no commit in {tree.tasks_rel or '.'} defines a workflow named {name!r}, and the server "
                          "has none" + (" (this clone is shallow: history is truncated)" if tree.shallow else ""))
    local = {version_of(w.definition): w.definition for w in load_local_workflows(config)[0]
             if w.definition["name"] == name}
    ledger = fetch_workflow_ledger(session)
    versions = []
    for copy in sorted(server, key=version_of):
        version = version_of(copy)
        state = ownership(name, version, local.get(version), copy, ledger)
        held = next((s.commit.sha for s in steps for v in s.versions if v.version == version
                     and v.definition is not None and not differences(copy, v.definition)), None)
        versions.append(ServerVersion(version, state.state, state.reason, held))
    commits = [HistoryEntry(s.commit.sha, s.commit.author, s.commit.date, s.commit.subject,
                            tuple({"version": v.version, "change": v.change, "path": v.path} for v in s.versions))
               for s in steps]
    return WorkflowHistory(name, commits, versions, tree.shallow)


@dataclass
class RollbackPlan:
    """The workflow versions at one commit planned against the server: what a rollback would write."""
    sha: str
    plan: WorkflowPlan

    @property
    def to_write(self) -> list[Any]:
        return self.plan.to_write


@dataclass
class WorkflowRollbackOutcome:
    """`workflows rollback`: the commit, the plan, what was written, and whether the ledger recorded it."""
    to: str                                  # the full commit sha
    plan: WorkflowPlan
    dry_run: bool = False
    result: WriteResult | None = None        # None: dry run, or nothing to write
    ledger_problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def to_json(self) -> dict[str, Any]:
        result = self.result or WriteResult.empty(WRITTEN)
        refs = [i.brief() for i in self.plan.to_write]
        return {**result.to_json(), "to": self.to, "dry_run": self.dry_run,
                "would_write": refs if self.dry_run else [],
                "unchanged": [i.brief() for i in self.plan.of(UNCHANGED)], "plan": self.plan.to_json(),
                "ledger_problem": self.ledger_problem}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WorkflowRollbackOutcome":
        planned = WorkflowPlan.from_json(data["plan"])
        dry_run = bool(data.get("dry_run"))
        result = None if dry_run or not planned.to_write else WriteResult.from_json(data, WRITTEN)
        return cls(data["to"], planned, dry_run, result, data.get("ledger_problem"))


def plan_workflow_rollback(session: Session, rev: str, names: Iterable[str] | None,
                           run: StepRunner = direct) -> RollbackPlan:
    """The workflow versions at `rev` (those named, or all) against the server's copies."""
    config = session.config
    tree = open_workflows_tree(config.resolve(config.workflows_dir))
    sha, workflows, issues = workflows_at(tree, rev)
    wanted = list(dict.fromkeys(names or ()))
    missing = sorted(set(wanted) - {w.definition["name"] for w in workflows})
    if missing:
        raise IdflowError(f"no workflow named {', '.join(missing)} in {tree.tasks_rel or '.'} at {sha[:10]}",
                          hint="'idflow workflows history NAME' lists the commits that define it")
    if issues and not wanted:
        raise WorkflowFilesInvalid(f"{len(issues)} problem(s) in the workflow files at {sha[:10]}; nothing was "
                                   "written", issues)
    kept: list[FileIssue] = [] if wanted else list(issues)
    return RollbackPlan(sha, plan(session, names=wanted or None, local=(workflows, kept), run=run))


def workflows_rollback(session: Session, rev: str, *, names: Iterable[str] | None = None, dry_run: bool = False,
                       overwrite_server_edits: bool = False, confirm: Confirm | None = None,
                       run: StepRunner = direct) -> WorkflowRollbackOutcome:
    """`workflows rollback --to REV`: put the versions back as they were at REV (the working tree untouched)."""
    planned = plan_workflow_rollback(session, rev, names, run=run)
    updates = planned.plan.of(UPDATE)
    ledger = run(fetch_workflow_ledger, session) if planned.to_write else None
    if updates and not overwrite_server_edits:
        refuse_unseen_reverts(updates, ledger)
    if dry_run or not planned.to_write:
        return WorkflowRollbackOutcome(planned.sha, planned.plan, dry_run)
    if confirm is not None:
        confirm(planned)
    written = run(write_workflow_upload, session, planned.plan)
    problem = run(record_written, session, written, ledger)
    return WorkflowRollbackOutcome(planned.sha, planned.plan, False, written.result, problem)

