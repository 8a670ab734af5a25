"""Workflow definitions as code, and workflow runs: list, plan, upload, run.

Steps: `load_local_workflows` (files) and `fetch_workflow_context` (server workflows and
TaskDef names) at the edges; `idflow.workflowdefs.sync.plan_workflows` pure; the upload writes,
reads back and backs up what it replaces.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from idflow.errors import IdflowError, WorkflowFilesInvalid
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.usecases.upload import discover


def load_local_workflows(config: Any) -> tuple[list[Any], list[Any]]:
    """(LocalWorkflow each (name, version) once, FileIssue) from the workflow files."""
    from idflow.discovery import display_path
    from idflow.workflowdefs.sync import load_local

    return load_local(Path(display_path(config.resolve(config.workflows_dir))))


@dataclass
class WorkflowContext:
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
        from idflow.workflowdefs.sync import issue_json, referenced_tasks, version_of

        return {"workflows": [{"name": w.definition["name"], "version": version_of(w.definition), "path": w.path,
                               "tasks": referenced_tasks(w.definition)} for w in self.workflows],
                "errors": [issue_json(i) for i in self.issues], "warnings": [w.to_json() for w in self.warnings]}


def list_local(session: Session) -> LocalWorkflows:
    from idflow.workflowdefs.files import unknown_tasks

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
         local: tuple[list[Any], list[Any]] | None = None, run: StepRunner = direct) -> Any:
    """Local workflows (all, or those named) vs the server's copies: a WorkflowPlan."""
    from idflow.workflowdefs.sync import plan_workflows

    workflows, issues = local if local is not None else run(load_local_workflows, session.config)
    context = run(fetch_workflow_context, session)
    local_tasks = [t.name for t in run(discover, session.config).tasks]
    return plan_workflows(workflows, context.remote, local_tasks=local_tasks, remote_tasks=context.remote_tasks,
                          names=names, issues=issues, include_remote_only=include_remote_only)


def upload(session: Session, *, names: Iterable[str] | None = None, dry_run: bool = False,
           run: StepRunner = direct) -> Any:
    """`workflows upload`: refuses (exit 3) a workflow naming a task defined nowhere; returns UploadResult."""
    from idflow.workflowdefs.sync import upload_workflows

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
    planned = plan(session, names=names or None, local=(workflows, issues), run=run)
    return upload_workflows(session.client, planned, dry_run=dry_run, state_dir=session.state_dir,
                            server_url=session.config.safe_api_url)



def start(session: Session, name: str, workflow_input: dict[str, Any], *, version: int | None = None) -> str:
    """Start one run; returns its workflow id."""
    return session.client.start_workflow(name, workflow_input, version=version)


def wait(session: Session, workflow_id: str, *, timeout: float,
         on_task: Callable[[dict[str, Any]], None] | None = None) -> Any:
    """Follow a run until it ends or `timeout` passes: a RunOutcome."""
    from idflow.workflowdefs.sync import wait_for_execution

    return wait_for_execution(session.client, workflow_id, timeout=timeout, on_task=on_task)
