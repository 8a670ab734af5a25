"""`idflow workflows list|upload` and `idflow workflow run`."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, List, Optional

import typer
from rich.markup import escape

from idflow.cli.options import JSON_OPTION, VERBOSE_OPTION
from idflow.cli.state import CliState, state
from idflow.errors import EXIT_ERROR, IdflowError

def _local(cli: CliState):
    from idflow.discovery_fs import display_path
    from idflow.workflows import load_local

    config = cli.config()
    return load_local(Path(display_path(config.resolve(config.workflows_dir))))


def _render_issues(console, issues, severity: str = "error") -> None:
    colour = "red" if severity == "error" else "yellow"
    for issue in issues:
        console.print(f"[{colour}]{severity}[/] {escape(str(issue))}")


def _render_changes(console, item) -> None:
    for change in item.changes:
        old = "(unset)" if change.old is None else json.dumps(change.old)
        new = "(unset)" if change.new is None else json.dumps(change.new)
        console.print(f"    {escape(change.path)}: [red]{escape(old)}[/] -> [green]{escape(new)}[/]")


def _plan(cli: CliState, local, issues, names=None, include_remote_only: bool = False):
    from idflow.usecases import discover
    from idflow.workflows import plan_workflows

    client = cli.client()
    remote, taskdefs = client.list_workflows(), client.list_taskdefs()
    local_tasks = [t.name for t in discover(cli.config()).tasks]
    return plan_workflows(local, remote, local_tasks=local_tasks, remote_tasks=[t.get("name") for t in taskdefs],
                          names=names, issues=issues, include_remote_only=include_remote_only)


def list_workflows(ctx: typer.Context,
                   local: bool = typer.Option(False, "--local", help="Only the workflow files (no server needed)."),
                   remote: bool = typer.Option(False, "--remote", help="Only the definitions on the server."),
                   sync: bool = typer.Option(False, "--sync", help="Local vs server: in sync, changed, to upload."),
                   verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """What is local, what is on the server, and how they differ (default: --sync)."""
    from idflow.workflows import issue_json, referenced_tasks, version_of

    cli = state(ctx, json_)
    verbose = verbose or cli.verbose
    if sum((local, remote, sync)) > 1:
        raise typer.BadParameter("choose one of --local, --remote, --sync")
    if remote:
        _list_remote(cli, cli.client().list_workflows())
        return
    workflows, issues = _local(cli)
    if local:
        rows = [{"name": w.definition["name"], "version": version_of(w.definition), "path": w.path,
                 "tasks": referenced_tasks(w.definition)} for w in workflows]
        from idflow.usecases import discover
        from idflow.workflow_files import unknown_tasks
        warnings = unknown_tasks(workflows, {t.name for t in discover(cli.config()).tasks})

        def render(console) -> None:
            for row in rows:
                console.print(f"[bold]{escape(row['name'])}[/] v{row['version']} [dim]{escape(row['path'])}[/]  "
                              f"tasks: {escape(', '.join(row['tasks']) or '-')}")
            console.print(f"{len(rows)} local workflow(s)")
            _render_issues(console, issues)
            _render_issues(console, warnings, "warning")

        cli.emit({"workflows": rows, "errors": [issue_json(i) for i in issues],
                  "warnings": [w.to_json() for w in warnings]}, render)
    else:
        plan = _plan(cli, workflows, issues, include_remote_only=True)
        cli.emit(plan.summary(), lambda console: _render_sync(console, plan, verbose))
    if issues:
        raise typer.Exit(EXIT_ERROR)


def _list_remote(cli: CliState, remote: list[dict[str, Any]]) -> None:
    versions: dict[str, list[int]] = {}
    for definition in remote:
        versions.setdefault(str(definition.get("name")), []).append(int(definition.get("version") or 1))
    rows = [{"name": name, "versions": sorted(v), "latest": max(v)} for name, v in sorted(versions.items())]

    def render(console) -> None:
        for row in rows:
            others = f" [dim](versions {', '.join(map(str, row['versions']))})[/]" if len(row["versions"]) > 1 else ""
            console.print(f"[bold]{escape(row['name'])}[/] v{row['latest']}{others}")
        console.print(f"{len(rows)} workflow(s) on the server")

    cli.emit({"remote": rows}, render)


def _render_sync(console, plan, verbose: bool) -> None:
    from idflow.workflows import CREATE, REMOTE_ONLY, UNCHANGED, UPDATE

    labels = {UNCHANGED: "[green]in sync[/]", UPDATE: "[yellow]changed[/]", CREATE: "[cyan]to upload[/]",
              REMOTE_ONLY: "[dim]only on the server[/]"}
    for item in plan.items:
        if item.action == REMOTE_ONLY and not verbose:
            continue
        where = f" [dim]{escape(item.path)}[/]" if item.path else ""
        console.print(f"{escape(item.label)}: {labels[item.action]}{where}")
        if verbose:
            _render_changes(console, item)
        for ref in item.unknown_tasks:
            console.print(f"    [yellow]warning[/] unknown task {escape(ref.task)} at {escape(ref.where)}")
    counts = {a: len(plan.of(a)) for a in labels}
    console.print(f"[green]in sync {counts[UNCHANGED]}[/] · [yellow]changed {counts[UPDATE]}[/] · "
                  f"[cyan]to upload {counts[CREATE]}[/] · [dim]only on the server {counts[REMOTE_ONLY]}[/]")
    _render_issues(console, plan.issues)


def upload(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Workflows to upload (by name)."),
           all_: bool = typer.Option(False, "--all", help="Upload every local workflow."),
           dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan, write nothing."),
           verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Upload new and changed workflows; refuses (exit 3) if one names a task defined nowhere."""
    from idflow.usecases import state_dir
    from idflow.workflows import WorkflowsRefused, issue_json, upload_workflows

    cli = state(ctx, json_)
    verbose = verbose or cli.verbose
    if bool(names) == all_:
        raise typer.BadParameter("name the workflows to upload, or pass --all (not both)")
    workflows, issues = _local(cli)
    if issues and all_:
        _render_issues(cli.err, issues)
        raise IdflowError(f"{len(issues)} problem(s) in the workflow files; nothing was written",
                          hint="fix the files named above, or name only the workflows to upload")
    _render_issues(cli.err, issues, "warning")
    known = {w.definition["name"] for w in workflows}
    missing = [n for n in names or () if n not in known]
    if missing:
        raise IdflowError(f"no local workflow named {', '.join(missing)}",
                          hint=f"local workflows: {', '.join(sorted(known)) or 'none'} "
                               "('idflow workflows list --local')")
    plan = _plan(cli, workflows, issues, names=None if all_ else names)
    config = cli.config()
    try:
        result = upload_workflows(cli.client(), plan, dry_run=dry_run, state_dir=state_dir(config),
                                  server_url=config.api_url)
    except WorkflowsRefused as exc:
        _refuse(cli, exc)
    for item in plan.items:
        if item.not_uploaded:
            tasks = ", ".join(item.not_uploaded)
            cli.err.print(f"[yellow]warning:[/] {escape(item.label)} uses task(s) {escape(tasks)} that are defined "
                          "locally but not on the server yet: run 'idflow tasks upload "
                          f"{escape(' '.join(item.not_uploaded))}' before running it")
    doc = result.to_json()
    doc["errors"] = [issue_json(i) for i in issues]
    cli.emit(doc, lambda console: _render_upload(console, result, verbose))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)


def _refuse(cli: CliState, exc) -> None:
    from dataclasses import asdict

    cli.err.print(f"[bold red]refused:[/] {escape(exc.message)}")
    cli.err.print(f"[dim]hint:[/] {escape(exc.hint or '')}")
    if cli.json:
        refused = [{**i.brief(), "unknown_tasks": [asdict(r) for r in i.unknown_tasks]} for i in exc.plan.refused]
        cli.emit({"refused": refused, "written": [],
                  "error": {"type": type(exc).__name__, "message": exc.message, "hint": exc.hint}}, lambda c: None)
    raise typer.Exit(exc.exit_code)


def _render_upload(console, result, verbose: bool) -> None:
    from idflow.workflows import CREATE, UNCHANGED, UPDATE

    verb = {CREATE: "would create" if result.dry_run else "created",
            UPDATE: "would update" if result.dry_run else "updated"}
    for item in result.plan.items:
        if item.action in verb:
            colour = "green" if item.action == CREATE else "yellow"
            console.print(f"[{colour}]{verb[item.action]}[/] {escape(item.label)} [dim]{escape(item.path or '')}[/]")
            if item.action == UPDATE and (verbose or result.dry_run):
                _render_changes(console, item)
    unchanged = len(result.plan.of(UNCHANGED))
    if unchanged:
        console.print(f"[dim]unchanged {unchanged}[/]")
    for item, changes in result.mismatched:
        console.print(f"[red]failed {escape(item.label)}:[/] the server stored it differently from the file")
        for change in changes:
            console.print(f"    {escape(change.path)}: server {escape(json.dumps(change.old))}, "
                          f"file {escape(json.dumps(change.new))}")
    if result.backup:
        console.print(f"[dim]previous server copies backed up to {escape(result.backup)}[/]")
    if result.dry_run:
        console.print("[dim]dry run: nothing was written[/]")
    elif not result.plan.to_write:
        console.print("[green]In sync: nothing to upload.[/]")


def _parse_input(value: Optional[str]) -> dict[str, Any]:
    if value is None:
        return {}
    text, source = value, "--input"
    if value.startswith("@"):
        path = Path(value[1:])
        try:
            text, source = path.read_text(encoding="utf-8-sig"), str(path)
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {path}: {exc.strerror}", param_hint="--input") from None
    try:
        if source.endswith((".yaml", ".yml")):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (ValueError, Exception) as exc:  # json.JSONDecodeError, yaml.YAMLError
        raise typer.BadParameter(f"{source} is not valid {'YAML' if source.endswith(('.yaml', '.yml')) else 'JSON'}: "
                                 f"{exc}", param_hint="--input") from None
    if not isinstance(data, dict):
        raise typer.BadParameter(f"{source} must be a JSON object (the workflow input), got {type(data).__name__}",
                                 param_hint="--input")
    return data


def run(ctx: typer.Context, name: str = typer.Argument(..., help="The workflow to start."),
        version: Optional[int] = typer.Option(None, "--version", min=1, help="Workflow version (default: latest)."),
        input_: Optional[str] = typer.Option(None, "--input", help="Workflow input: JSON text, or @file (JSON/YAML)."),
        wait: bool = typer.Option(False, "--wait", help="Follow the run to the end; exit 0 only if it COMPLETED."),
        timeout: float = typer.Option(300.0, "--timeout", min=0.1,
                                      help="With --wait: give up after this many seconds."),
        json_: bool = JSON_OPTION) -> None:
    """Start a workflow; with --wait, show each task's status as it changes, then the output."""
    from idflow.workflows import RunOutcome, wait_for_execution

    cli = state(ctx, json_)
    workflow_input = _parse_input(input_)
    client = cli.client()
    workflow_id = client.start_workflow(name, workflow_input, version=version)
    cli.err.print(f"started {escape(name)}{f' v{version}' if version else ''}: workflow id {escape(workflow_id)}")
    if not wait:
        cli.emit({"workflowId": workflow_id, "name": name, "version": version, "status": "RUNNING"},
                 lambda console: console.print(workflow_id))
        return

    def on_task(task: dict[str, Any]) -> None:
        colour = {"COMPLETED": "green", "IN_PROGRESS": "cyan", "SCHEDULED": "dim"}.get(task["status"], "red")
        reason = f" [dim]({escape(task['reasonForIncompletion'])})[/]" if task.get("reasonForIncompletion") else ""
        cli.err.print(f"  {escape(str(task['ref']))} [dim]{escape(str(task['task']))}[/]: "
                      f"[{colour}]{escape(str(task['status']))}[/]{reason}")

    outcome: RunOutcome = wait_for_execution(client, workflow_id, timeout=timeout, on_task=on_task)
    cli.emit(outcome.to_json(), lambda console: _render_outcome(console, outcome, timeout))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)


def _render_outcome(console, outcome, timeout: float) -> None:
    doc = outcome.to_json()
    colour = "green" if outcome.ok else "red"
    if outcome.timed_out:
        console.print(f"[red]timed out after {timeout:g} s[/]: the workflow is still {escape(outcome.status)} "
                      f"(id {escape(outcome.workflow_id)})")
    else:
        console.print(f"[{colour}]{escape(outcome.status)}[/] [dim]{escape(outcome.workflow_id)}[/]")
    if doc["reasonForIncompletion"]:
        console.print(f"[red]reason:[/] {escape(doc['reasonForIncompletion'])}")
    for task in doc["failedTasks"]:
        label = f"{task['ref']} ({task['task']}) {task['status']}"
        console.print(f"[red]task {escape(label)}:[/] {escape(task['reasonForIncompletion'] or 'no reason given')}")
    console.print_json(json.dumps(doc["output"]))
