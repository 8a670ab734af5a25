"""Event handlers as code: list, diff, upload, purge (the `idflow events` commands and the sync flow).

Steps: `load_local_handlers` and `fetch_event_handlers` / `fetch_project_workflows` at the
edges, `plan_event_upload` / `plan_event_purge` pure (named apart from the TaskDef steps, as the
flows show each step by name), `write_handlers` / `delete_handlers` back up, write
or delete, and read back once.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from idflow.events import (DeleteResult, EventPlan, EventPurgePlan, LocalHandlers, WriteResult, apply_upload,
                           execute_purge, load_event_handler_files, plan_purge, plan_upload)
from idflow.events.plan import issue_json
from idflow.errors import IdflowError, EventFilesInvalid
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct


def load_local_handlers(config: Any) -> LocalHandlers:
    from idflow.discovery import display_path

    return load_event_handler_files(display_path(config.resolve(config.workflows_dir)))


def fetch_event_handlers(session: Session) -> list[dict[str, Any]]:
    return session.client.list_event_handlers()


@dataclass
class ProjectWorkflows:
    names: set[str]
    issues: list[Any]                        # FileIssue: workflow files that could not be read


def fetch_project_workflows(config: Any) -> ProjectWorkflows:
    """This project's workflows: the names its workflow files define (what `--orphaned` may claim)."""
    from idflow.workflowdefs.files import load_workflow_files

    workflows, issues = load_workflow_files(config.resolve(config.workflows_dir))
    return ProjectWorkflows({w.definition["name"] for w in workflows}, issues)


def plan_event_upload(local: LocalHandlers, remote: list[dict[str, Any]], *,
                      names: list[str] | None = None) -> EventPlan:
    return plan_upload(local, remote, names=names)


def plan_event_purge(local: LocalHandlers, remote: list[dict[str, Any]], project_workflows: set[str],
                     **kw: Any) -> EventPurgePlan:
    return plan_purge(local, remote, project_workflows, **kw)


def write_handlers(session: Session, plan: EventPlan) -> WriteResult:
    return apply_upload(session.client, plan, state_dir=session.state_dir, server_url=session.config.safe_api_url,
                        interruption=session.interruption)


def delete_handlers(session: Session, plan: EventPurgePlan) -> DeleteResult:
    return execute_purge(session.client, plan, state_dir=session.state_dir, server_url=session.config.safe_api_url,
                         interruption=session.interruption)


# ---- list -------------------------------------------------------------------------------------------------

@dataclass
class EventListing:
    """`events list`: the local handlers, the server's, or both side by side (`view`)."""

    view: str                                            # local | remote | sync
    local: LocalHandlers | None = None
    remote: list[dict[str, Any]] | None = None
    plan: EventPlan | None = None                        # sync only

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"view": self.view}
        if self.view == "local" and self.local is not None:
            doc["handlers"] = [{"name": h.name, "event": h.definition.get("event"),
                                "active": bool(h.definition.get("active", False)), "source": h.where}
                               for h in self.local.handlers]
            doc["files"] = list(self.local.files)
            doc["errors"] = [issue_json(i) for i in self.local.issues]
            doc["warnings"] = [issue_json(i) for i in self.local.warnings]
        elif self.view == "remote" and self.remote is not None:
            doc["handlers"] = [{"name": h["name"], "event": h.get("event"), "active": bool(h.get("active", False))}
                               for h in self.remote]
        elif self.plan is not None:
            doc.update(self.plan.to_json())
        return doc


def events_list(session: Session, *, view: str = "sync", run: StepRunner = direct) -> EventListing:
    if view == "local":
        return EventListing(view, local=run(load_local_handlers, session.config))
    if view == "remote":
        return EventListing(view, remote=run(fetch_event_handlers, session))
    local = run(load_local_handlers, session.config)
    remote = run(fetch_event_handlers, session)
    return EventListing(view, local=local, remote=remote, plan=run(plan_event_upload, local, remote))


# ---- diff / upload ----------------------------------------------------------------------------------------

def events_diff(session: Session, *, names: Iterable[str] | None = None, run: StepRunner = direct) -> EventPlan:
    """What `events upload` would change, field by field (`drift`: something to write)."""
    local = run(load_local_handlers, session.config)
    remote = run(fetch_event_handlers, session)
    return run(plan_event_upload, local, remote, names=list(names or []) or None)


@dataclass
class EventUploadOutcome:
    plan: EventPlan
    result: WriteResult | None = None        # None: dry run, or nothing to write
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def problems(self) -> list[str]:
        """What a flow run reports as not done (empty: everything written and verified)."""
        if self.result is None or self.result.ok:
            return []
        bad = [f["name"] for f in self.result.failed]
        return [f"{len(bad)} event handler(s) not written or not verified: {', '.join(bad[:20])}"]

    def to_json(self) -> dict[str, Any]:
        result = self.result or WriteResult()
        return {**result.to_json(), "dry_run": self.dry_run,
                "would_write": self.plan.names("create", "update") if self.dry_run else [],
                "unchanged": self.plan.names("same"), "plan": self.plan.to_json()}




def events_upload(session: Session, *, names: Iterable[str] | None = None, dry_run: bool = False,
                  run: StepRunner = direct) -> EventUploadOutcome:
    """`events upload NAME...|--all` (all: names None), and the sync flow's event step."""
    wanted = list(names or [])
    local = run(load_local_handlers, session.config)
    if local.issues and not wanted:
        raise EventFilesInvalid(f"{len(local.issues)} problem(s) in the event_handlers.json files; nothing was "
                                "written", local.issues)
    remote = run(fetch_event_handlers, session)
    plan = run(plan_event_upload, local, remote, names=wanted or None)
    plan.items = [i for i in plan.items if i.action != "remote_only"]
    if dry_run or not plan.to_write:
        return EventUploadOutcome(plan, dry_run=dry_run)
    return EventUploadOutcome(plan, run(write_handlers, session, plan))


# ---- purge ------------------------------------------------------------------------------------------------

@dataclass
class EventPurgeOutcome:
    plan: EventPurgePlan
    result: DeleteResult | None = None       # None: dry run, or nothing to delete

    @property
    def dry_run(self) -> bool:
        return self.result is None and bool(self.plan.deletions)

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def to_json(self) -> dict[str, Any]:
        result = self.result or DeleteResult()
        return {**result.to_json(), "dry_run": self.dry_run,
                "would_delete": [d.name for d in self.plan.deletions] if self.dry_run else [],
                "skipped": self.plan.to_json()["skipped"], "plan": self.plan.to_json()}


def events_purge(session: Session, *, names: Iterable[str] = (), orphaned: bool = False, dry_run: bool = False,
                 confirm: Confirm | None = None, run: StepRunner = direct) -> EventPurgeOutcome:
    """`events purge NAME...|--orphaned`: plan, show and ask (confirm), back up, delete, read back."""
    local = run(load_local_handlers, session.config)
    remote = run(fetch_event_handlers, session)
    workflows = run(fetch_project_workflows, session.config) if orphaned else ProjectWorkflows(set(), [])
    plan = run(plan_event_purge, local, remote, workflows.names, names=list(names), orphaned=orphaned,
               workflow_issues=workflows.issues)
    if dry_run or not plan.deletions:
        return EventPurgeOutcome(plan)
    if confirm is not None:
        confirm(plan)
    return EventPurgeOutcome(plan, run(delete_handlers, session, plan))
