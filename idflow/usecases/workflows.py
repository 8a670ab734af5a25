"""Workflow definitions as code, and workflow runs: list, plan, upload, run.

Steps: `load_local_workflows` (files) and `fetch_workflow_context` (server workflows and
TaskDef names) at the edges; `idflow.workflowdefs.sync.plan_workflows` pure; the upload writes,
reads back and backs up what it replaces.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from idflow.base.errors import (IdflowError, InvalidExecutionId, NoSuchTask, NotFound, RefusedError, ServerError,
                                WorkflowFilesInvalid)
from idflow.base.progress import DISCOVERING, READING, UPLOADING, Report, phase
from idflow.conductor.paths import addressable
from idflow.discovery import display_path
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.tasks import discover
from idflow.usecases.workflow_ledger import RecordedUpload, fetch_workflow_ledger, record_workflows
from idflow.workflowdefs.files import unknown_tasks
from idflow.workflowdefs.ownership import ownership, refuses_overwrite
from idflow.workflowdefs.scaffold import check_workflow_name, create_workflow, newest_task
from idflow.workflowdefs.sync import (TERMINAL, UPDATE, RunOutcome, issue_json, load_local, plan_workflows,
                                      referenced_tasks, version_of, wait_for_execution)
from idflow.workflowdefs.write import upload_workflows


def load_local_workflows(config: Any) -> tuple[list[Any], list[Any]]:
    """(LocalWorkflow each (name, version) once, FileIssue) from the workflow files."""
    return load_local(Path(display_path(config.resolve(config.workflows_dir))))


@dataclass
class WorkflowContext:
    """The server's side of a workflow plan: every workflow version and the task definition names."""
    remote: list[dict[str, Any]]            # every version of every workflow on the server
    remote_tasks: list[str]                 # TaskDef names on the server


def fetch_workflow_context(session: Session) -> WorkflowContext:
    client = session.client
    return WorkflowContext(client.list_workflows(), [t.get("name") for t in client.list_taskdefs()])


@dataclass
class LocalWorkflows:
    """`workflows list --local`: the files, their problems, and tasks no layer defines."""

    workflows: list[Any]
    issues: list[Any]
    warnings: list[Any] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"workflows": [{"name": w.definition["name"], "version": version_of(w.definition), "path": w.path,
                               "tasks": referenced_tasks(w.definition)} for w in self.workflows],
                "errors": [issue_json(i) for i in self.issues], "warnings": [w.to_json() for w in self.warnings]}


def list_local(session: Session) -> LocalWorkflows:
    workflows, issues = load_local_workflows(session.config)
    known = {t.name for t in discover(session.config).tasks}
    return LocalWorkflows(workflows, issues, unknown_tasks(workflows, known))


def list_remote(session: Session) -> list[dict[str, Any]]:
    """Each workflow name on the server with its versions."""
    versions: dict[str, list[int]] = {}
    for definition in session.client.list_workflows():
        versions.setdefault(str(definition.get("name")), []).append(int(definition.get("version") or 1))
    return [{"name": name, "versions": sorted(v), "latest": max(v)} for name, v in sorted(versions.items())]


def plan(session: Session, *, names: Iterable[str] | None = None, include_remote_only: bool = False,
         local: tuple[list[Any], list[Any]] | None = None, progress: Report | None = None,
         run: StepRunner = direct) -> Any:
    """Local workflows (all, or those named) vs the server's copies: a WorkflowPlan."""
    phase(progress, DISCOVERING)
    workflows, issues = local if local is not None else run(load_local_workflows, session.config)
    local_tasks = [t.name for t in run(discover, session.config).tasks]
    phase(progress, READING)
    context = run(fetch_workflow_context, session)
    return plan_workflows(workflows, context.remote, local_tasks=local_tasks, remote_tasks=context.remote_tasks,
                          names=names, issues=issues, include_remote_only=include_remote_only)


def upload(session: Session, *, names: Iterable[str] | None = None, dry_run: bool = False,
           overwrite_server_edits: bool = False, progress: Report | None = None, run: StepRunner = direct) -> Any:
    """`workflows upload`: refuses (exit 3) a workflow naming a task defined nowhere, and (unless
    `overwrite_server_edits`) one whose server copy was edited since idflow wrote it; returns UploadResult."""
    names = list(names or [])
    workflows, issues = run(load_local_workflows, session.config)
    if issues and not names:
        raise WorkflowFilesInvalid(f"{len(issues)} problem(s) in the workflow files; nothing was written", issues)
    known = {w.definition["name"] for w in workflows}
    missing = [n for n in names if n not in known]
    if missing:
        raise IdflowError(f"no local workflow named {', '.join(missing)}",
                          hint=f"local workflows: {', '.join(sorted(known)) or 'none'} "
                               "('idflow workflows list --local')")
    planned = plan(session, names=names or None, local=(workflows, issues), progress=progress, run=run)
    ledger = None
    if planned.of(UPDATE) and not dry_run:
        ledger = run(fetch_workflow_ledger, session)
        if not overwrite_server_edits:
            refuse_unseen_reverts(planned.of(UPDATE), ledger)
    if planned.to_write and not dry_run:
        phase(progress, UPLOADING)
    result = run(write_workflow_upload, session, planned, dry_run)
    if not result.written:
        return result
    return RecordedUpload(**vars(result), ledger_problem=record_written(session, result, ledger))


def record_written(session: Session, result: Any, ledger: Any) -> str | None:
    """Record the versions an upload or a rollback wrote in the ledger: the base `workflows pull` and the next
    upload compare with (idflow.workflowdefs.ownership). Why it failed, or None."""
    return record_workflows(session, [i.desired for i in result.written if i.desired], ledger)


def refuse_unseen_reverts(updates: Iterable[Any], ledger: Any) -> None:
    """Refuse (exit 3, nothing written) writing plan items (WorkflowItem: its file's body over its server copy)
    over a version edited on the server since idflow wrote it (server changed, or a conflict)."""
    found = [(i.label, state) for i in updates if i.actual is not None
             and refuses_overwrite((state := ownership(i.name, i.version, i.desired, i.actual, ledger)).state)]
    if found:
        raise RefusedError(f"{len(found)} workflow version(s) would revert an edit made on the server: "
                           + "; ".join(f"{key}: {state.state} ({state.reason})" for key, state in found[:5])
                           + "; nothing was written",
                           hint="'idflow workflows diff' shows both sides; 'idflow workflows pull' brings the edit "
                                "into the file; --overwrite-server-edits replaces it with the file")


def write_workflow_upload(session: Session, planned: Any, dry_run: bool = False) -> Any:
    """Back up what it overwrites, write in batches, read back once: the UploadResult."""
    return upload_workflows(session.client, planned, dry_run=dry_run, state_dir=session.state_dir,
                            server_url=session.config.safe_api_url, batch_size=session.config.batch_size,
                            interruption=session.interruption)



def new_workflow(session: Session, name: str, *, task: str | None = None) -> dict[str, Any]:
    """`workflows new NAME [--task TASK]`: workflows_dir/NAME/NAME.json, with TASK, else the local task
    whose file changed last (the one just made), else an INLINE step."""
    check_workflow_name(name)
    config = session.config
    workflows, _ = load_local_workflows(config)
    tasks = discover(config).valid_tasks
    if task is not None and task not in {t.name for t in tasks}:
        raise NoSuchTask(f"no valid local task named {task!r}; nothing was written",
                         hint="'idflow tasks list --local' lists them")
    path, definition = create_workflow(config.resolve(config.workflows_dir), name,
                                       task=task or newest_task(tasks),
                                       existing_names=[w.definition["name"] for w in workflows])
    return {"workflow": name, "created": display_path(path), "definition": definition}


def start(session: Session, name: str, workflow_input: dict[str, Any], *, version: int | None = None) -> str:
    """Start one run; returns its workflow id. An unknown name or version lists what the server has."""
    try:
        return session.client.start_workflow(name, workflow_input, version=version)
    except NotFound:
        known = session.client.workflow_names()
    if name in known:
        raise IdflowError(f"workflow {name} has no version {version} on the server",
                          hint=f"its versions: {', '.join(map(str, known[name]))}") from None
    raise IdflowError(f"no workflow named {name} on the server", hint=_known_hint(name, known)) from None


def _known_hint(name: str, known: dict[str, list[int]], shown: int = 10) -> str:
    if not known:
        return "the server has no workflows yet: upload one with 'idflow workflows upload NAME'"
    close = difflib.get_close_matches(name, list(known), n=shown, cutoff=0.5)
    names = close + [n for n in sorted(known) if n not in close][: max(0, shown - len(close))]
    more = f" and {len(known) - len(names)} more ('idflow workflows list --remote')" if len(known) > len(names) else ""
    return f"workflows on the server: {', '.join(names)}{more}"


def wait(session: Session, workflow_id: str, *, timeout: float,
         on_task: Callable[[dict[str, Any]], None] | None = None) -> Any:
    """Follow a run until it ends or `timeout` passes: a RunOutcome."""
    return wait_for_execution(session.client, workflow_id, timeout=timeout, on_task=on_task)


def status(session: Session, workflow_id: str) -> Any:
    """`workflow status ID`: the run as it is now (a RunOutcome)."""
    return RunOutcome(workflow_id, _execution(session, workflow_id))


def _execution(session: Session, workflow_id: str) -> dict[str, Any]:
    hint = "ids are printed by 'idflow workflow run'; the Conductor UI lists them too"
    reason = addressable(workflow_id)
    if reason:  # checked here, so the message speaks of an execution id, not of a definition name
        raise InvalidExecutionId(f"invalid execution id {workflow_id[:80]!r}: {reason.replace('the name', 'it')}; "
                                 "nothing was read or changed", hint=hint)
    try:
        return session.client.get_execution(workflow_id)
    except NotFound:
        raise IdflowError(f"execution id {workflow_id[:80]!r} not found: no workflow run has it on the server",
                          hint=hint) from None


@dataclass
class RunAction:
    """`workflow terminate|retry`: the run before and after; `changed` False when there was nothing to do."""

    workflow_id: str
    action: str                 # "terminate" | "retry"
    name: str | None
    before: str
    after: str
    changed: bool
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"workflowId": self.workflow_id, "action": self.action, "name": self.name,
                "previousStatus": self.before, "status": self.after, "changed": self.changed, "reason": self.reason}


def terminate(session: Session, workflow_id: str, *, reason: str | None = None,
              confirm: Confirm | None = None) -> RunAction:
    """Terminate a running or paused run; an already terminated one is left as it is (changed: False)."""
    run_now = status(session, workflow_id)
    name = run_now.to_json()["name"]
    if run_now.status == "TERMINATED":
        return RunAction(workflow_id, "terminate", name, run_now.status, run_now.status, False, reason)
    if run_now.status in TERMINAL:
        hint = "'idflow workflow retry ID' runs its failed tasks again" if run_now.status != "COMPLETED" else None
        raise IdflowError(f"workflow run {workflow_id} ({name}) already ended {run_now.status}; "
                          "nothing to terminate", hint=hint)
    if confirm is not None:
        confirm(run_now)
    _conflict_is_error(lambda: session.client.terminate_workflow(workflow_id, reason), workflow_id)
    after = status(session, workflow_id).status
    return RunAction(workflow_id, "terminate", name, run_now.status, after, True, reason)


def retry(session: Session, workflow_id: str) -> RunAction:
    """Run a FAILED, TIMED_OUT or TERMINATED run's failed tasks again, from where it stopped."""
    run_now = status(session, workflow_id)
    name = run_now.to_json()["name"]
    if run_now.status not in TERMINAL:
        raise IdflowError(f"workflow run {workflow_id} ({name}) is still {run_now.status}; nothing to retry",
                          hint="wait for it to end, or stop it with 'idflow workflow terminate ID'")
    if run_now.status == "COMPLETED":
        raise IdflowError(f"workflow run {workflow_id} ({name}) COMPLETED; nothing to retry",
                          hint="start a new run with 'idflow workflow run NAME'")
    _conflict_is_error(lambda: session.client.retry_workflow(workflow_id), workflow_id)
    after = status(session, workflow_id).status
    return RunAction(workflow_id, "retry", name, run_now.status, after, True)


def _conflict_is_error(call: Callable[[], None], workflow_id: str) -> None:
    """The run changed between our read and the write: the server's 409 (or 404 'still running') says how."""
    try:
        call()
    except (NotFound, ServerError) as exc:
        if exc.status not in (404, 409):
            raise
        raise IdflowError(f"workflow run {workflow_id}: the server refused: {exc.message}",
                          hint="'idflow workflow status ID' shows where it is now") from None
