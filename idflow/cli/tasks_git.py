"""`idflow tasks history` and `idflow tasks rollback`: definitions through Git."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import List, Optional

import typer
from rich.markup import escape

from idflow.cli.app import tasks_app
from idflow.cli.state import JSON_OPTION, state
from idflow.errors import EXIT_ERROR, IdflowError

YES_OPTION = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")


@tasks_app.command("history")
def history(ctx: typer.Context, name: str = typer.Argument(..., help="Task name."), json_: bool = JSON_OPTION) -> None:
    """Commits that changed the task's definition (not every commit that touched its file)."""
    from idflow.gitsource import history as definition_history
    from idflow.gitsource import open_tree
    from idflow.operations import discover_local
    from idflow.provenance import parse_provenance
    from idflow import taskdef
    from idflow.errors import NotFound

    cli = state(ctx, json_)
    config = cli.config()
    tree = open_tree(config.resolve(config.tasks_dir))
    local = discover_local(config).by_name().get(name)
    task_dir = ""
    if local is not None:
        task_dir = (config.resolve(local.task_dir).resolve().relative_to(tree.root / tree.tasks_rel).as_posix())
    entries = definition_history(tree, task_dir, name)
    if not entries:
        raise IdflowError(f"no commit in {tree.tasks_rel or '.'} defines a task named {name!r}")
    try:
        server = cli.client().get_taskdef(name)
    except NotFound:
        server = None
    stamped = parse_provenance(server.get("description")) if server else None
    holds = None
    if server is not None:
        holds = next((e.commit.sha for e in entries
                      if e.task_def is not None and not taskdef.field_differences(e.task_def, server)), None)
    doc = {"name": name, "server_sha": stamped.sha if stamped else None, "server_matches": holds,
           "commits": [{"sha": e.commit.sha, "date": e.commit.date, "author": e.commit.author,
                        "subject": e.commit.subject, "deleted": e.task_def is None,
                        "changes": [{"field": f, "old": o, "new": n} for f, o, n in e.changes]} for e in entries]}

    def render(console) -> None:
        console.print(f"[bold]{escape(name)}[/]: {len(entries)} definition change(s)")
        for e in entries:
            marks = []
            if holds == e.commit.sha:
                marks.append("[green]matches the server[/]")
            if stamped and stamped.sha == e.commit.sha:
                marks.append("[cyan]stamped on the server[/]")
            console.print(f"[yellow]{e.commit.sha[:10]}[/] {e.commit.date[:10]} {escape(e.commit.author)}  "
                          f"{escape(e.commit.subject)} {' '.join(marks)}")
            if e.task_def is None:
                console.print("    [red]task removed[/]")
            elif not e.changes:
                console.print("    [green]created[/]")
            for f, old, new in e.changes:
                console.print(f"    {f}: [red]{escape(json.dumps(old))}[/] -> [green]{escape(json.dumps(new))}[/]")
        if server is None:
            console.print("[dim]not on the server[/]")
        elif holds is None:
            console.print("[yellow]the server's definition matches none of these commits[/]")

    cli.emit(doc, render)


@tasks_app.command("rollback")
def rollback(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Tasks to roll back."),
             to: str = typer.Option(..., "--to", help="Git revision to take the definitions from."),
             all_: bool = typer.Option(False, "--all", help="Every task defined at that revision."),
             yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
             json_: bool = JSON_OPTION) -> None:
    """Put back the definitions as they were at a Git revision (working tree untouched)."""
    from idflow.apply import apply_plan
    from idflow.cli.render import render_apply, render_diff
    from idflow.gitsource import definitions_at, open_tree
    from idflow.operations import plan_tasks, select_tasks, state_dir
    from idflow.provenance import Provenance, content_hash

    cli = state(ctx, json_)
    if bool(names) == all_:
        raise typer.BadParameter("name the tasks to roll back, or pass --all (not both)")
    config = cli.config()
    tree = open_tree(config.resolve(config.tasks_dir))
    discovery, sha = definitions_at(tree, to)
    tasks = select_tasks(discovery, None if all_ else names)
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    provenance = {t.name: Provenance(sha=sha, dirty=False, path=t.path,
                                     hash=content_hash(t.task_def), at=at,
                                     project=config.project_name) for t in tasks}
    plan = plan_tasks(config, cli.client(), tasks, provenance=provenance).select(t.name for t in tasks)
    if not cli.json:
        cli.err.print(f"rolling back to [yellow]{sha[:10]}[/] ({escape(to)}):")
        render_diff(cli.err, plan)
    doc = {"to": sha, "dry_run": dry_run, "created": [], "updated": [], "failed": [], "backup": None,
           "would_change": plan.names("create", "update")}
    if plan.has_drift and not dry_run:
        cli.confirm(f"Roll back {len(plan.to_write)} definition(s) to {sha[:10]}?", yes=yes)
        result = apply_plan(cli.client(), plan, state_dir=state_dir(config), batch_size=config.batch_size)
        doc.update(result.to_json())
    cli.emit(doc, lambda c: render_apply(c, doc))
    if doc["failed"] or doc.get("not_attempted"):  # a partial rollback is a failure too
        raise typer.Exit(EXIT_ERROR)
