"""History and rollback: definitions through Git (the working tree is never touched)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable

from idflow.errors import IdflowError, NotFound
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.upload import UploadOutcome, UploadPlan, discover, fetch_taskdefs, nothing_to_apply
from idflow.usecases.upload import apply_upload, plan_definitions, select_tasks


@dataclass
class History:
    """The commits that changed one task's definition, and which of them the server holds."""

    name: str
    entries: list[Any]                  # gitsource.HistoryEntry, newest first
    server: dict[str, Any] | None       # the server copy (None: not on the server)
    server_sha: str | None              # the commit its provenance stamp names
    server_matches: str | None          # the newest commit whose definition the server copy equals
    shallow: tuple[str, ...] = ()       # a shallow clone: history stops at these commits

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "server_sha": self.server_sha, "server_matches": self.server_matches,
                "on_server": self.server is not None, "truncated_at": list(self.shallow),
                "commits": [{"sha": e.commit.sha, "date": e.commit.date, "author": e.commit.author,
                             "subject": e.commit.subject, "deleted": e.task_def is None,
                             "changes": [{"field": f, "old": o, "new": n} for f, o, n in e.changes]}
                            for e in self.entries]}


def history(session: Session, name: str) -> History:
    from idflow.taskdefs import fields as taskdef
    from idflow.provenance.history import history as definition_history
    from idflow.provenance.history import open_tree
    from idflow.provenance.trailer import parse_provenance

    config = session.config
    tree = open_tree(config.resolve(config.tasks_dir))
    local = discover(config).by_name().get(name)
    task_dir = ""
    if local is not None:
        task_dir = tree.task_dir_rel(config.resolve(local.task_dir))
    entries = definition_history(tree, task_dir, name)
    if not entries:
        raise IdflowError(f"no commit in {tree.tasks_rel or '.'} defines a task named {name!r}"
                          + (" (this clone is shallow: history is truncated)" if tree.shallow else ""))
    try:
        server = session.client.get_taskdef(name)
    except NotFound:
        server = None
    stamped = parse_provenance(server.get("description")) if server else None
    holds = None
    if server is not None:
        holds = next((e.commit.sha for e in entries
                      if e.task_def is not None and not taskdef.field_differences(e.task_def, server)), None)
    return History(name, entries, server, stamped.sha if stamped else None, holds, tree.shallow)


@dataclass
class RollbackOutcome:
    to: str                               # the full commit sha
    upload: UploadOutcome

    @property
    def ok(self) -> bool:
        return self.upload.ok

    def to_json(self) -> dict[str, Any]:
        doc = self.upload.to_json()
        doc["to"] = self.to
        doc["would_change"] = self.upload.plan.names("create", "update")
        return doc

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RollbackOutcome":
        return cls(data["to"], UploadOutcome.from_json(data))


def plan_rollback(session: Session, rev: str, names: Iterable[str] | None,
                  taskdefs: list[dict[str, Any]]) -> tuple[str, UploadPlan]:
    """The definitions at `rev`, stamped with that commit, against the server's copies (pure but for Git)."""
    from idflow.provenance.history import definitions_at, open_tree
    from idflow.provenance.trailer import Provenance, content_hash

    config = session.config
    tree = open_tree(config.resolve(config.tasks_dir))
    names = list(names) if names else None
    discovery, sha = definitions_at(tree, rev, names)
    tasks = select_tasks(discovery, names)
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    provenance = {t.name: Provenance(sha=sha, dirty=False, path=t.path, hash=content_hash(t.task_def), at=at,
                                     project=config.project_name) for t in tasks}
    plan = plan_definitions(config, tasks, taskdefs, provenance=provenance).select(t.name for t in tasks)
    return sha, UploadPlan(plan)


def rollback(session: Session, rev: str, *, names: Iterable[str] | None = None, dry_run: bool = False,
             confirm: Confirm | None = None, run: StepRunner = direct) -> RollbackOutcome:
    """`tasks rollback`: put back the definitions as they were at `rev`; backs up what it overwrites."""
    taskdefs = run(fetch_taskdefs, session)
    sha, planned = plan_rollback(session, rev, names, taskdefs)
    if dry_run:
        return RollbackOutcome(sha, UploadOutcome(planned))
    if not planned.plan.to_write:
        return RollbackOutcome(sha, UploadOutcome(planned, nothing_to_apply(planned.plan)))
    if confirm is not None:
        confirm((sha, planned))
    return RollbackOutcome(sha, UploadOutcome(planned, run(apply_upload, session, planned.plan)))
