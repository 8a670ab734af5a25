"""`idflow tasks list [--local|--remote|--sync]`."""
from __future__ import annotations

import typer

from idflow.cli.app import tasks_app
from idflow.cli.state import JSON_OPTION, VERBOSE_OPTION, state
from idflow.errors import EXIT_ERROR


def render_issues(console, issues) -> None:
    from rich.markup import escape

    for issue in issues:
        colour = "red" if issue.severity == "error" else "yellow"
        console.print(f"[{colour}]{issue.severity}[/] {escape(issue.path)}:{issue.line}: {escape(issue.message)}")


@tasks_app.command("list")
def list_tasks(ctx: typer.Context,
               local: bool = typer.Option(False, "--local", help="Only the task files (no server needed)."),
               remote: bool = typer.Option(False, "--remote", help="Only the definitions on the server."),
               sync: bool = typer.Option(False, "--sync", help="Local vs server: in sync, changed, to upload, orphaned."),
               verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """What is local, what is on the server, and how they differ (default: --sync)."""
    cli = state(ctx, json_)
    verbose = verbose or cli.verbose
    if sum((local, remote, sync)) > 1:
        raise typer.BadParameter("choose one of --local, --remote, --sync")
    config = cli.config()
    if local:
        from idflow.cli.tasks_local import render_local
        from idflow.operations import discover_local

        discovery = discover_local(config)
        cli.emit(discovery.to_json(), lambda c: render_local(c, discovery, verbose))
        if discovery.errors:
            raise typer.Exit(EXIT_ERROR)
        return
    client = cli.client()
    if remote:
        from idflow.cli.render import render_remote

        taskdefs = client.list_taskdefs()
        cli.emit({"remote": taskdefs}, lambda c: render_remote(c, taskdefs, verbose))
        return
    from idflow.cli.render import render_sync
    from idflow.operations import discover_local, plan_tasks

    discovery = discover_local(config)
    plan = plan_tasks(config, client, discovery.tasks)
    doc = plan.summary()
    if verbose:
        doc["changes"] = {i.name: [{"field": c.field, "old": c.old, "new": c.new} for c in i.changes]
                          for i in plan.of("update")}
    doc["errors"] = [{"path": e.path, "line": e.line, "message": e.message} for e in discovery.errors]

    def render(console) -> None:
        render_sync(console, plan, verbose)
        render_issues(console, discovery.issues)

    cli.emit(doc, render)
    if discovery.errors:
        raise typer.Exit(EXIT_ERROR)
