"""`idflow workflows list|upload|new` and `idflow workflow run|status|terminate|retry`."""
from __future__ import annotations

import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, List, Optional

import typer

from idflow.cli.options import JSON_OPTION, OVERWRITE_OPTION, PROTECTED_YES_OPTION, VERBOSE_OPTION, YES_OPTION
from idflow.cli.state import CliState, state
from idflow.base.errors import EXIT_ERROR, InputFileError, WorkflowsRefused
from idflow.base.reading import decode, load_json, read_bytes, yaml_documents


def list_workflows(ctx: typer.Context,
                   local: bool = typer.Option(False, "--local", help="Only the workflow files (no server needed)."),
                   remote: bool = typer.Option(False, "--remote", help="Only the definitions on the server."),
                   sync: bool = typer.Option(False, "--sync", help="Local vs server, with each version's state: in "
                                             "sync, code changed, edited on the server, conflict, to upload..."),
                   verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """What is local, what is on the server, and how they differ (default: --sync)."""
    from idflow.cli.render import workflows as render
    from idflow.usecases import workflows

    cli = state(ctx, json_)
    verbose = verbose or cli.verbose
    if sum((local, remote, sync)) > 1:
        raise typer.BadParameter("choose one of --local, --remote, --sync")
    if remote:
        rows = workflows.list_remote(cli.session())
        cli.emit({"remote": rows}, lambda console: render.render_remote(console, rows))
        return
    if local:
        found = workflows.list_local(cli.session())
        cli.emit(found.to_json(), lambda console: render.render_local(console, found))
        issues = found.issues
    else:
        from idflow.usecases.workflows_diff import sync_document, sync_view

        with cli.progress() as progress:
            plan, states = sync_view(cli.session(), progress=progress)
        cli.emit(sync_document(plan, states), lambda console: render.render_sync(console, plan, states, verbose))
        issues = plan.issues
    if issues:
        raise typer.Exit(EXIT_ERROR)


def upload(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Workflows to upload (by name)."),
           all_: bool = typer.Option(False, "--all", help="Upload every local workflow."),
           dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan, write nothing."),
           overwrite_server_edits: bool = OVERWRITE_OPTION,
           verbose: bool = VERBOSE_OPTION, yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Upload new and changed workflows; refuses (exit 3) if one names a task defined nowhere, or would revert
    an edit made on the server since idflow wrote it (unless --overwrite-server-edits)."""
    from idflow.cli.render import workflows as render
    from idflow.usecases import workflows

    cli = state(ctx, json_)
    verbose = verbose or cli.verbose
    if bool(names) == all_:
        raise typer.BadParameter("name the workflows to upload, or pass --all (not both)")
    try:
        with cli.progress() as progress:
            result = workflows.upload(cli.session(), names=None if all_ else names, dry_run=dry_run,
                                      overwrite_server_edits=overwrite_server_edits, progress=progress)
    except WorkflowsRefused as exc:
        _refuse(cli, exc)
    render.render_issues(cli.err, result.plan.issues, "warning")
    render.render_not_uploaded(cli.err, result.plan)
    cli.emit(result.to_json(), lambda console: render.render_upload(console, result, verbose))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


def _refuse(cli: CliState, exc) -> None:
    from idflow.cli.render.text import safe as escape  # foreign text: no control characters, no markup

    cli.err.print(f"[bold red]refused:[/] {escape(exc.message)}")
    cli.err.print(f"[dim]hint:[/] {escape(exc.hint or '')}")
    if cli.json:
        refused = [{**i.brief(), "unknown_tasks": [asdict(r) for r in i.unknown_tasks]} for i in exc.plan.refused]
        cli.emit({"refused": refused, "written": [],
                  "error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}}, lambda c: None)
    raise typer.Exit(exc.exit_code)


def _parse_input(value: Optional[str]) -> dict[str, Any]:
    """The workflow input: JSON text (a bad one is a usage error), or @file read by the bounded reader
    (a bad file is an InputFileError, exit 1)."""
    if value is None:
        return {}
    if value.startswith("@"):
        path = Path(value[1:])
        if not os.path.lexists(path):  # naming no file is a usage error (2); a bad file is bad input (1)
            raise typer.BadParameter(f"{path} does not exist", param_hint="--input")
        text = decode(read_bytes(path, what="input file"), path, what="input file")
        if not text.strip():
            raise InputFileError(path, "empty file: expected a JSON object (the workflow input)", what="input file")
        if path.suffix.lower() in (".yaml", ".yml"):
            documents = yaml_documents(text, path, what="input file", single=True)
            data = documents[0][0] if documents else None
        else:
            data = load_json(text, path, what="input file")
        if not isinstance(data, dict):
            raise InputFileError(path, f"must hold a JSON object (the workflow input), got {type(data).__name__}",
                                 what="input file")
        return data
    try:
        data = load_json(value, "--input", what="the value of")
    except InputFileError as exc:
        raise typer.BadParameter(f"not valid JSON: {exc.problem}", param_hint="--input") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"must be a JSON object (the workflow input), got {type(data).__name__}",
                                 param_hint="--input")
    return data


def run(ctx: typer.Context, name: str = typer.Argument(..., help="The workflow to start."),
        version: Optional[int] = typer.Option(None, "--version", min=1, help="Workflow version (default: latest)."),
        input_: Optional[str] = typer.Option(None, "--input", help="Workflow input: JSON text, or @file (JSON/YAML)."),
        wait: bool = typer.Option(False, "--wait", help="Follow the run to the end; exit 0 only if it COMPLETED."),
        timeout: float = typer.Option(300.0, "--timeout", min=0.1,
                                      help="With --wait: give up after this many seconds."),
        yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Start a workflow; with --wait, show each task's status as it changes, then the output."""
    from idflow.cli.render.text import safe as escape  # foreign text: no control characters, no markup

    from idflow.cli.render import workflows as render
    from idflow.usecases import workflows

    cli = state(ctx, json_)
    workflow_input = _parse_input(input_)
    session = cli.session()
    workflow_id = workflows.start(session, name, workflow_input, version=version)
    cli.err.print(f"started {escape(name)}{f' v{version}' if version else ''}: workflow id {escape(workflow_id)}")
    if not wait:
        cli.emit({"workflowId": workflow_id, "name": name, "version": version, "status": "RUNNING"},
                 lambda console: console.print(workflow_id))
        return
    outcome = workflows.wait(session, workflow_id, timeout=timeout,
                             on_task=lambda task: render.render_task_status(cli.err, task))
    cli.emit(outcome.to_json(), lambda console: render.render_outcome(console, outcome, timeout))
    if outcome.timed_out:
        render.render_follow_hint(cli.err, workflow_id)
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)


WORKFLOW_ID = typer.Argument(..., help="The workflow run's id (printed by 'idflow workflow run').")


def status(ctx: typer.Context, workflow_id: str = WORKFLOW_ID, json_: bool = JSON_OPTION) -> None:
    """A run's status, its tasks and its output (exit 0 whatever the status)."""
    from idflow.cli.render import workflows as render
    from idflow.usecases import workflows

    cli = state(ctx, json_)
    outcome = workflows.status(cli.session(), workflow_id)
    cli.emit(outcome.to_json(), lambda console: render.render_status(console, outcome))


def terminate(ctx: typer.Context, workflow_id: str = WORKFLOW_ID,
              reason: Optional[str] = typer.Option(None, "--reason", help="Why: kept with the run on the server."),
              yes: bool = YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Stop a running workflow (asks first; without a terminal, needs -y)."""
    from idflow.cli.render.text import plain
    from idflow.cli.render.text import safe as escape  # foreign text: no control characters, no markup

    from idflow.cli.render import workflows as render
    from idflow.usecases import workflows

    cli = state(ctx, json_)

    def confirm(run_now) -> None:
        doc = run_now.to_json()
        cli.confirm(f"Terminate {plain(doc['name'])} run {plain(workflow_id)} ({plain(run_now.status)})?", yes=yes)

    action = workflows.terminate(cli.session(), workflow_id, reason=reason, confirm=confirm)
    cli.emit(action.to_json(), lambda console: render.render_action(console, action))


def retry(ctx: typer.Context, workflow_id: str = WORKFLOW_ID, yes: bool = PROTECTED_YES_OPTION,
          json_: bool = JSON_OPTION) -> None:
    """Run a FAILED, TIMED_OUT or TERMINATED run again from its failed task."""
    from idflow.cli.render import workflows as render
    from idflow.usecases import workflows

    cli = state(ctx, json_)
    action = workflows.retry(cli.session(), workflow_id)
    cli.emit(action.to_json(), lambda console: render.render_action(console, action))
    render.render_follow_hint(cli.err, workflow_id)


def new(ctx: typer.Context, name: str = typer.Argument(..., help="Workflow name: letters, digits, '_', '-'."),
        task: str = typer.Option("", "--task", help="The local task its step runs (default: the task "
                                 "changed last, e.g. the one `tasks new` just made)."),
        json_: bool = JSON_OPTION) -> None:
    """Scaffold workflows_dir/NAME/NAME.json with one step: --task, else the newest local task; never overwrites."""
    from idflow.cli.render import workflows as render
    from idflow.usecases import workflows

    cli = state(ctx, json_)
    created = workflows.new_workflow(cli.session(), name, task=task or None)
    cli.emit(created, lambda console: render.render_new(console, created))
