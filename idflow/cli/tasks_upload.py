"""`idflow tasks diff`, `upload` and `apply`: plan first, write only what changed."""
from __future__ import annotations

import json
from pathlib import Path
from typing import List, Optional

import typer

from idflow.cli.app import tasks_app
from idflow.cli.state import JSON_OPTION, VERBOSE_OPTION, state
from idflow.errors import EXIT_DRIFT, EXIT_ERROR, IdflowError

PREFECT_OPTION = typer.Option(False, "--prefect",
                              help="Run as a Prefect flow run on the server in PREFECT_API_URL (shown in its UI).")


def _progress(cli, total_hint: str):
    """A stderr progress bar for long writes; a no-op without a terminal."""
    if not cli.progress_enabled():
        return None, None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn(total_hint), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=cli.err,
                   transient=True)
    task = bar.add_task(total_hint, total=None)
    return bar, lambda done, total: bar.update(task, completed=done, total=total)


def _show_invalid(cli, exc) -> None:
    from idflow.cli.tasks_list import render_issues

    render_issues(cli.err, exc.issues)  # stderr, so with --json too: path:line is what to fix
    exc.shown = True


@tasks_app.command("diff")
def diff(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Only these tasks."),
         out: Optional[Path] = typer.Option(None, "--out", help="Write the plan as JSON (apply it later)."),
         prefect: bool = PREFECT_OPTION, verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Show what an upload would change, field by field. Exit 0 in sync, 4 on drift."""
    from idflow.cli.render import render_diff
    from idflow.operations import InvalidDefinitions, discover_local, plan_tasks, provenance_of, select_tasks
    from idflow.plan import Plan

    cli = state(ctx, json_)
    try:
        if prefect:
            from idflow.cli.prefect_bridge import run_for_cli

            plan = Plan.from_json(run_for_cli(cli, "diff", task_names=names or None))
        else:
            config = cli.config()
            tasks = select_tasks(discover_local(config), names)
            provenance, _ = provenance_of(config, tasks)
            plan = plan_tasks(config, cli.client(), tasks, provenance=provenance)
            if names:
                plan = plan.select(names)
    except InvalidDefinitions as exc:
        _show_invalid(cli, exc)
        raise
    if out:
        out.write_text(json.dumps(plan.to_json(), indent=1), encoding="utf-8")
        cli.err.print(f"[dim]plan written to {out}[/]")
    cli.emit(plan.to_json(), lambda c: render_diff(c, plan, verbose or cli.verbose))
    if plan.has_drift:
        raise typer.Exit(EXIT_DRIFT)


@tasks_app.command("upload")
def upload(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Tasks to upload."),
           all_: bool = typer.Option(False, "--all", help="Upload every local task."),
           force: bool = typer.Option(False, "--force", help="Write even unchanged definitions."),
           dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan, write nothing."),
           require_clean: Optional[bool] = typer.Option(None, "--require-clean/--allow-dirty",
                                                        help="Refuse when task files have uncommitted changes."),
           prefect: bool = PREFECT_OPTION, verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Upload new and changed definitions (merged into the server's copy, then verified)."""
    from idflow.cli.render import render_apply, render_diff
    from idflow.operations import InvalidDefinitions, discover_local
    from idflow.operations import upload as run_upload

    cli = state(ctx, json_)
    if bool(names) == all_:
        raise typer.BadParameter("name the tasks to upload, or pass --all (not both)")
    if prefect:
        from idflow.cli.prefect_bridge import run_for_cli

        try:
            doc = run_for_cli(cli, "upload", task_names=None if all_ else names, force=force, dry_run=dry_run,
                              require_clean=require_clean)
        except InvalidDefinitions as exc:
            _show_invalid(cli, exc)
            raise
        cli.emit(doc, lambda c: render_apply(c, doc))
        return
    config = cli.config()
    discovery = discover_local(config)
    bar, progress = _progress(cli, "uploading")
    try:
        if bar:
            bar.start()
        outcome = run_upload(config, cli.client(), discovery, names=None if all_ else names, force=force,
                             dry_run=dry_run, require_clean=require_clean, progress=progress)
    except InvalidDefinitions as exc:
        _show_invalid(cli, exc)
        raise
    finally:
        if bar:
            bar.stop()
    for name in outcome.dirty:
        cli.err.print(f"[yellow]warning:[/] {name} has uncommitted changes; its provenance says +dirty "
                      "(commit first, or use --require-clean in CI)")
    if outcome.provenance_missing:
        cli.err.print("[yellow]warning:[/] not in a Git repository: definitions carry no commit (provenance missing)")
    doc = outcome.to_json()

    def render(console) -> None:
        if dry_run or verbose or cli.verbose:
            render_diff(console, outcome.plan, verbose or cli.verbose)
        render_apply(console, doc)

    cli.emit(doc, render)
    if outcome.result is not None and not outcome.result.ok:
        raise typer.Exit(EXIT_ERROR)


@tasks_app.command("apply")
def apply(ctx: typer.Context, plan_file: Path = typer.Argument(..., help="A plan written by 'tasks diff --out'."),
          json_: bool = JSON_OPTION) -> None:
    """Apply a saved plan, only if the server still looks as it did when planned."""
    from idflow.cli.render import render_apply
    from idflow.operations import apply_saved_plan
    from idflow.plan import Plan

    cli = state(ctx, json_)
    try:
        plan = Plan.from_json(json.loads(plan_file.read_text(encoding="utf-8")))
    except (OSError, ValueError) as exc:
        raise IdflowError(f"cannot read plan {plan_file}: {exc}") from None
    result = apply_saved_plan(cli.config(), cli.client(), plan)
    cli.emit(result.to_json(), lambda c: render_apply(c, result.to_json()))
    if not result.ok:
        raise typer.Exit(EXIT_ERROR)
