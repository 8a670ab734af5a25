"""`idflow tasks purge` and `idflow tasks sync`: delete only what is safe, after asking."""
from __future__ import annotations

from typing import List, Optional

import typer
from rich.markup import escape

from idflow.cli.app import tasks_app
from idflow.cli.state import JSON_OPTION, VERBOSE_OPTION, state
from idflow.errors import EXIT_ERROR, RefusedError

YES_OPTION = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")


def render_purge_plan(console, purge) -> None:
    for d in purge.deletions:
        console.print(f"[red]- delete {escape(d.name)}[/] [dim]({d.reason})[/]")
        if d.forced_uses:
            console.print(f"  [bold red]FORCED: still used by {len(d.forced_uses)} place(s):[/]")
            for use in d.forced_uses:
                console.print(f"    [red]{escape(use)}[/]")
        if d.note:
            console.print(f"  [yellow]note:[/] {escape(d.note)}")
    for s in purge.skipped:
        console.print(f"[green]= keep {escape(s.name)}[/] [dim]({escape(s.reason)})[/]")
        for use in s.used_by[:10]:
            console.print(f"    used by {escape(use)}")
        if len(s.used_by) > 10:
            console.print(f"    ... and {len(s.used_by) - 10} more")
    if not purge.deletions:
        console.print("[green]Nothing to delete.[/]")


def run_purge(cli, purge, *, yes: bool, dry_run: bool) -> dict:
    """Show, confirm, back up and delete; returns the JSON document."""
    from idflow.operations import execute_purge_plan

    render_purge_plan(cli.err, purge)  # always on stderr: what goes must be seen, even with --json
    doc = {"deleted": [], "skipped": purge.to_json()["skipped"], "failed": [], "backup": None,
           "would_delete": [d.name for d in purge.deletions] if dry_run else [],
           "forced": [d.name for d in purge.deletions if d.forced_uses]}
    if dry_run or not purge.deletions:
        return doc
    cli.confirm(f"Delete {len(purge.deletions)} task definition(s) from the server?", yes=yes)
    result = execute_purge_plan(cli.config(), cli.client(), purge)
    doc.update(deleted=result.deleted, failed=result.failed, backup=result.backup)
    return doc


def render_purge_result(console, doc) -> None:
    if doc["backup"]:
        console.print(f"[dim]deleted definitions backed up to {escape(doc['backup'])} "
                      f"(idflow tasks restore FILE)[/]")
    if doc["deleted"]:
        console.print(f"[red]deleted {len(doc['deleted'])}:[/] {escape(', '.join(doc['deleted']))}")
    for failure in doc["failed"]:
        console.print(f"[bold red]not deleted {escape(failure['name'])}:[/] {escape('; '.join(failure['errors']))}")
    if doc["would_delete"]:
        console.print(f"[dim]dry run: would delete {len(doc['would_delete'])}; nothing was deleted[/]")


@tasks_app.command("purge")
def purge(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Remote definitions to delete."),
          orphaned: bool = typer.Option(False, "--orphaned", help="Definitions idflow uploaded whose source is gone."),
          include_foreign: bool = typer.Option(False, "--include-foreign",
                                               help="With --orphaned: also definitions idflow never uploaded."),
          force: bool = typer.Option(False, "--force", help="Delete even when workflows use them."),
          yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, delete nothing."),
          json_: bool = JSON_OPTION) -> None:
    """Delete remote definitions: never one a workflow uses (unless --force); asks first."""
    from idflow.operations import discover_local, plan_purge_for

    cli = state(ctx, json_)
    if bool(names) == orphaned:
        raise typer.BadParameter("name the definitions to delete, or pass --orphaned (not both)")
    config = cli.config()
    discovery = discover_local(config)
    plan = plan_purge_for(config, cli.client(), discovery, names=names or (), orphaned=orphaned,
                          include_foreign=include_foreign, force=force)
    doc = run_purge(cli, plan, yes=yes, dry_run=dry_run)
    cli.emit(doc, lambda c: render_purge_result(c, doc))
    if doc["failed"]:
        raise typer.Exit(EXIT_ERROR)
    if names and not doc["deleted"] and not dry_run and plan.skipped:
        raise typer.Exit(3)


@tasks_app.command("sync")
def sync(ctx: typer.Context, prune: bool = typer.Option(False, "--prune", help="Also purge orphaned definitions."),
         yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
         prefect: bool = typer.Option(False, "--prefect", help="Run as a Prefect flow run (PREFECT_API_URL)."),
         verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Full synchronisation: upload new and changed; with --prune, purge orphans safely."""
    from idflow.cli.render import render_apply, render_diff
    from idflow.operations import discover_local, plan_purge_for, upload

    cli = state(ctx, json_)
    if prefect:
        from idflow.cli.prefect_bridge import run_for_cli

        if prune and not dry_run:  # the flow cannot ask: confirm before it starts
            cli.confirm("Sync with --prune as a Prefect flow run? Orphaned definitions no workflow uses "
                        "will be deleted without asking again.", yes=yes)
        doc = run_for_cli(cli, "sync", prune=prune, dry_run=dry_run)
        if not cli.json:
            render_apply(cli.err, doc["upload"])
        cli.emit(doc, lambda c: render_purge_result(c, doc["purge"]) if prune else None)
        return
    config = cli.config()
    discovery = discover_local(config)
    outcome = upload(config, cli.client(), discovery, dry_run=dry_run)
    doc = {"upload": outcome.to_json()}
    if not cli.json:
        if dry_run or verbose:
            render_diff(cli.err, outcome.plan, verbose)
        render_apply(cli.err, doc["upload"])
    if prune:
        purge_plan = plan_purge_for(config, cli.client(), discovery, orphaned=True)
        doc["purge"] = run_purge(cli, purge_plan, yes=yes, dry_run=dry_run)
    cli.emit(doc, lambda c: render_purge_result(c, doc["purge"]) if prune else None)
    failed = (outcome.result is not None and not outcome.result.ok) or (prune and doc["purge"]["failed"])
    if failed:
        raise typer.Exit(EXIT_ERROR)


__all__ = ["purge", "sync", "RefusedError"]
