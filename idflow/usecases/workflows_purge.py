"""`workflows purge NAME...|--orphaned`: plan, show and ask (confirm), back up, delete, read back.

Steps: `load_local_workflows`, `fetch_purge_context` (server versions, event handlers, schedules, the ledger),
`read_workflows_seen` (what this clone's Git history held) and `fetch_running` (the RUNNING executions of each
candidate version) at the edges; `purge_candidates` and `decide_purge` pure; `delete_workflow_versions` backs up,
deletes through the engine and reads back.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from idflow.base.errors import ConductorError, RefusedError
from idflow.engine.write import WriteResult
from idflow.project.identity import require_identity
from idflow.usecases.events import record_ledger
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.workflow_ledger import fetch_workflow_ledger, read_workflows_seen
from idflow.usecases.workflows import load_local_workflows
from idflow.workflowdefs.purge import (DELETED, Candidate, WorkflowPurgePlan, decide_purge, execute_workflow_purge,
                                       purge_candidates)
from idflow.workflowdefs.pulling import label
from idflow.workflowdefs.sync import version_of
from idflow.workflowdefs.usage import build_workflow_usage

MAX_RUNNING_CHECKED = 200    # executions read per version to learn their version (the server's list ignores it)


@dataclass
class PurgeContext:
    """What a workflow purge reads from the server: workflows, event handlers, schedules and the ledger."""
    server: list[dict[str, Any]]
    handlers: list[dict[str, Any]]
    schedules: list[dict[str, Any]] | None     # None: the server has no scheduler
    ledger: Any                                # Ledger | None


def fetch_purge_context(session: Session) -> PurgeContext:
    client = session.client
    return PurgeContext(client.list_workflows(), client.list_event_handlers(), client.list_schedules(),
                        fetch_workflow_ledger(session))


def fetch_running(session: Session, candidates: list[Candidate]) -> dict[tuple[str, int], list[str]]:
    """The RUNNING executions of each candidate version. Conductor's running list answers for every version of a
    name whatever `version` says (checked on 3.32), so each execution's own version is read; one that cannot be
    read counts as running this version (when in doubt, keep)."""
    client = session.client
    found: dict[tuple[str, int], list[str]] = {}
    read: dict[str, dict[str, Any] | None] = {}   # each execution once, however many versions list it
    for c in candidates:
        # Asked per version: a server whose list does honour the version must not hide another version's runs.
        ids = client.running_workflow_ids(c.name, c.version)
        mine = []
        for workflow_id in ids[:MAX_RUNNING_CHECKED]:
            if workflow_id not in read:
                try:
                    read[workflow_id] = client.get_execution(workflow_id)
                except ConductorError:
                    read[workflow_id] = None
            execution = read[workflow_id]
            if execution is None or (execution.get("workflowVersion") in (c.version, None)
                                     and execution.get("status") in (None, "RUNNING", "PAUSED")):
                mine.append(workflow_id)
        mine.extend(ids[MAX_RUNNING_CHECKED:])
        if mine:
            found[(c.name, c.version)] = mine
    return found


def plan_workflows_purge(local: list[Any], context: PurgeContext, running: dict[tuple[str, int], list[str]],
                         candidates: list[Candidate], skipped: list[Any], force: bool) -> WorkflowPurgePlan:
    usage = build_workflow_usage(context.server, local, context.handlers, context.schedules)
    latest: dict[str, int] = {}
    for definition in context.server:
        name = str(definition.get("name"))
        latest[name] = max(latest.get(name, 0), version_of(definition))
    return decide_purge(candidates, skipped, usage, running, latest, force=force)


def delete_workflow_versions(session: Session, plan: WorkflowPurgePlan) -> WriteResult:
    return execute_workflow_purge(session.client, plan, state_dir=session.state_dir,
                                  server_url=session.config.safe_api_url, interruption=session.interruption)


@dataclass
class WorkflowPurgeOutcome:
    """`workflows purge`: the plan, and which versions were deleted and read back (nothing on a dry run)."""
    plan: WorkflowPurgePlan
    result: WriteResult | None = None     # None: dry run, or nothing to delete
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def to_json(self) -> dict[str, Any]:
        result = self.result or WriteResult.empty(DELETED)
        planned = self.plan.to_json()
        return {**result.to_json(), "dry_run": self.dry_run,
                "would_delete": [{"name": d.name, "version": d.version} for d in self.plan.deletions]
                if self.dry_run else [],
                "forced": [{"name": d.name, "version": d.version} for d in self.plan.deletions if d.forced_uses],
                "skipped": planned["skipped"], "notes": planned["notes"], "plan": planned}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "WorkflowPurgeOutcome":
        plan = WorkflowPurgePlan.from_json(data["plan"])
        dry_run = bool(data.get("dry_run"))
        result = None if dry_run or not plan.deletions else WriteResult.from_json(data, DELETED)
        return cls(plan, result, dry_run)


def workflows_purge(session: Session, *, names: Iterable[str] = (), orphaned: bool = False, force: bool = False,
                    dry_run: bool = False, confirm: Confirm | None = None,
                    run: StepRunner = direct) -> WorkflowPurgeOutcome:
    """`workflows purge NAME...|--orphaned`: every server version of the names, or this project's versions whose
    file is gone; none in use (running executions, workflows, handlers, schedules) unless `force`."""
    if orphaned:
        require_identity(session.config.identity, "workflows purge --orphaned")
    local, issues = run(load_local_workflows, session.config)
    if issues and (orphaned or not force):
        raise RefusedError(f"{len(issues)} local workflow file(s) could not be read, so what is orphaned or used "
                           "is unknown; nothing was deleted: "
                           + "; ".join(str(i) for i in issues[:5]), hint="fix the workflow files"
                           + ("" if orphaned else ", or --force"))
    context = run(fetch_purge_context, session)
    seen = run(read_workflows_seen, session.config, context.ledger) if orphaned and context.ledger is not None else None
    candidates, skipped = purge_candidates(context.server, local, context.ledger, seen, names=list(names),
                                           orphaned=orphaned)
    running = run(fetch_running, session, candidates) if candidates else {}
    plan = run(plan_workflows_purge, local, context, running, candidates, skipped, force)
    if dry_run or not plan.deletions:
        return WorkflowPurgeOutcome(plan, dry_run=dry_run)
    if confirm is not None:
        confirm(plan)
    result = run(delete_workflow_versions, session, plan)
    ledger = context.ledger
    gone = [label(r["name"], r["version"]) for r in result.of("deleted") if isinstance(r, dict)]
    if ledger is not None and set(gone) & set(ledger.entries):
        run(record_ledger, session, ledger.without(gone))   # a stale entry is only ever kept: see the ledger
    return WorkflowPurgeOutcome(plan, result)
