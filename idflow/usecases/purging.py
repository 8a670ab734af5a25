"""Purge and sync: delete only what no workflow can use, after showing it and asking.

Steps: `discover`, `fetch_taskdefs`, `fetch_workflows` (server versions and local files)
at the edges; `plan_purge` pure; `execute_purge` backs up, deletes and reads back once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from idflow.base.errors import RefusedError
from idflow.project.identity import require_identity
from idflow.base.interrupt import requested
from idflow.taskdefs.purge import DELETED, PurgePlan, PurgeResult, execute_purge as delete_definitions
from idflow.taskdefs.purge import plan_purge as decide_purge
from idflow.taskdefs.purge import refuse_unaddressable
from idflow.usecases.session import Session
from idflow.base.progress import DELETING, DISCOVERING, READING, Report, counted, phase
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.tasks import UploadOutcome, discover, fetch_taskdefs, plan_definitions, upload
from idflow.discovery.layers import empty_layers
from idflow.taskdefs.usage import build_usage_index
from idflow.usecases.server_edits import ServerEditsOutcome, handle_server_edits, resolve_policy
from idflow.workflowdefs.files import load_workflow_files


@dataclass
class WorkflowSources:
    """Every workflow definition that may use a TaskDef: all server versions and the local files."""

    server: list[dict[str, Any]] = field(default_factory=list)
    local: list[Any] = field(default_factory=list)          # LocalWorkflow
    issues: list[Any] = field(default_factory=list)         # FileIssue: local files that could not be read


def fetch_workflows(session: Session) -> WorkflowSources:
    config = session.config
    local, issues = load_workflow_files(config.resolve(config.workflows_dir))
    return WorkflowSources(session.client.list_workflows(), local, issues)


def plan_purge(config: Any, discovery: Any, taskdefs: list[dict[str, Any]], workflows: WorkflowSources, *,
               names: Iterable[str] = (), orphaned: bool = False, include_foreign: bool = False,
               force: bool = False) -> PurgePlan:
    """Which remote definitions go and which stay, and why (pure).

    Refuses (exit 3) when the local files cannot be trusted to say what is orphaned or used.
    """
    if orphaned:
        refuse_empty_layers(config, discovery)
    if orphaned and discovery.errors:
        missing = next((e for e in discovery.errors if e.line == 0 and e.message.startswith("tasks dir ")), None)
        if missing is not None:  # no task files at all: every definition would look orphaned
            raise RefusedError(f"{missing.message.split(':')[0]}, so every definition would look orphaned; "
                               "nothing was deleted", hint="point tasks_dir in config/idflow.yml (or --tasks-dir) "
                               "at your task files")
        raise RefusedError(f"{len(discovery.errors)} task file problem(s): a file that failed to parse is not an "
                           "orphan, so nothing was deleted", hint="fix the task files ('idflow tasks list --local')")
    if workflows.issues and not force:
        raise RefusedError(f"{len(workflows.issues)} local workflow file(s) could not be read, so usage is unknown: "
                           + "; ".join(f"{i.path}:{i.line}: {i.message}" for i in workflows.issues[:5]),
                           hint="fix the workflow files, or --force")
    usage = build_usage_index(workflows.server, workflows.local)
    plan = plan_definitions(config, discovery.tasks, taskdefs)
    decided = decide_purge(plan, usage, names=names, orphaned=orphaned, include_foreign=include_foreign, force=force)
    return refuse_unaddressable(decided)


def refuse_empty_layers(config: Any, discovery: Any) -> None:
    """Refuse (exit 3) an orphan purge while a configured layer holds no task file (see empty_layers)."""
    empty = empty_layers(config, discovery)
    if empty:
        said = {i.path: i.message for i in discovery.issues if i.line == 0}   # what a layer that is no folder is
        shown = [f"{layer} ({said[layer].split(':')[0]})" if layer in said else layer for layer in empty]
        raise RefusedError(f"task layer(s) {', '.join(shown)} hold no task file, so every definition they "
                           "declare would look orphaned; nothing was deleted",
                           hint="initialise the layer (git submodule update --init), or list it under "
                                "optional_tasks_dirs in config/idflow.yml if it may be empty")


def execute_purge(session: Session, purge: PurgePlan, progress: Report | None = None) -> PurgeResult:
    return delete_definitions(session.client, purge, state_dir=session.state_dir,
                              server_url=session.config.safe_api_url, interruption=session.interruption,
                              progress=counted(progress, DELETING))


@dataclass
class PurgeOutcome:
    """`tasks purge`: the plan, and what was deleted and read back (nothing on a dry run)."""
    plan: PurgePlan
    result: PurgeResult | None = None     # None: dry run, or nothing to delete
    dry_run: bool = False                 # asked for: show, delete nothing

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def to_json(self) -> dict[str, Any]:
        result = self.result or PurgeResult.empty(DELETED)
        return {**result.to_json(), "dry_run": self.dry_run,
                "would_delete": [d.name for d in self.plan.deletions] if self.dry_run else [],
                "forced": [d.name for d in self.plan.deletions if d.forced_uses],
                "skipped": self.plan.to_json()["skipped"], "plan": self.plan.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "PurgeOutcome":
        plan = PurgePlan.from_json(data["plan"])
        dry_run = bool(data.get("dry_run"))
        return cls(plan, None if dry_run or not plan.deletions else PurgeResult.from_json(data, DELETED), dry_run)


def purge(session: Session, *, names: Iterable[str] = (), orphaned: bool = False, include_foreign: bool = False,
          force: bool = False, dry_run: bool = False, confirm: Confirm | None = None,
          progress: Report | None = None, run: StepRunner = direct) -> PurgeOutcome:
    """`tasks purge`: plan, show (confirm), back up, delete, read back."""
    config = session.config
    if orphaned:
        require_identity(config.identity, "purge --orphaned")
    phase(progress, DISCOVERING)
    discovery = run(discover, config)
    phase(progress, READING)
    taskdefs = run(fetch_taskdefs, session)
    workflows = run(fetch_workflows, session)
    plan = run(plan_purge, config, discovery, taskdefs, workflows, names=list(names), orphaned=orphaned,
               include_foreign=include_foreign, force=force)
    if dry_run or not plan.deletions:
        return PurgeOutcome(plan, dry_run=dry_run)
    if confirm is not None:
        confirm(plan)
    return PurgeOutcome(plan, run(execute_purge, session, plan, progress))


@dataclass
class SyncOutcome:
    """`tasks sync`: the upload, the purge after it (if any), and the server edits its policy acted on."""
    upload: UploadOutcome
    purge: PurgeOutcome | None = None     # None: without prune, or purge_skipped
    purge_skipped: str | None = None      # why the purge was not attempted (a signal during the upload)
    server_edits: Any = None              # ServerEditsOutcome, when the server_edits policy had edits to act on
    policy: str = "refuse"                # the server_edits policy the sync followed (resolved once)

    @property
    def ok(self) -> bool:
        return self.upload.ok and (self.purge is None or self.purge.ok) and not self.purge_skipped

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"upload": self.upload.to_json(), "server_edits_policy": self.policy}
        if self.purge is not None:
            doc["purge"] = self.purge.to_json()
        if self.purge_skipped:
            doc["purge_skipped"] = self.purge_skipped
        if self.server_edits is not None and self.server_edits.reportable:
            doc["server_edits"] = self.server_edits.to_json()
        return doc

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "SyncOutcome":
        purged, edits = data.get("purge"), data.get("server_edits")
        return cls(UploadOutcome.from_json(data["upload"]), PurgeOutcome.from_json(purged) if purged else None,
                   data.get("purge_skipped"), ServerEditsOutcome.from_json(edits) if edits else None,
                   data.get("server_edits_policy", "refuse"))


def sync(session: Session, *, prune: bool = False, dry_run: bool = False, require_clean: bool | None = None,
         overwrite_server_edits: bool = False, confirm: Confirm | None = None, progress: Report | None = None,
         server_edits: str | None = None, events: bool = False, run: StepRunner = direct) -> SyncOutcome:
    """`tasks sync`: upload new and changed; with prune, purge orphans with every protection. Definitions
    edited on the server follow `server_edits` (else the config's: idflow.usecases.server_edits); with
    `events`, the policy covers event handlers too (the flow uploads them after, leaving the pulled ones)."""
    policy = resolve_policy(session.config, server_edits, overwrite_server_edits)
    if prune:  # before the upload: a sync that cannot prune is refused whole
        require_identity(session.config.identity, "sync --prune")
        refuse_empty_layers(session.config, run(discover, session.config))
    handled = handle_server_edits(session, policy=policy, events=events, dry_run=dry_run, run=run)
    uploaded = upload(session, dry_run=dry_run, require_clean=require_clean, progress=progress, run=run,
                      overwrite_server_edits=policy == "overwrite", leave=handled.left_tasks)
    edits = handled if handled.reportable else None   # nothing to say: the outcome of a sync without edits
    if not prune:
        return SyncOutcome(uploaded, server_edits=edits, policy=policy)
    if requested(session.interruption):  # the signal came during the upload: stop before planning deletes
        return SyncOutcome(uploaded, purge_skipped="interrupted during the upload; nothing was deleted",
                           server_edits=edits, policy=policy)
    return SyncOutcome(uploaded, purge(session, orphaned=True, dry_run=dry_run, confirm=confirm, progress=progress,
                                       run=run), server_edits=edits, policy=policy)
