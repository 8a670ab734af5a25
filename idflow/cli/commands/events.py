"""`idflow events list|diff|upload|purge`: event handlers from event_handlers.json files vs the server."""
from __future__ import annotations

from typing import List, Optional

import typer

from idflow.cli.options import JSON_OPTION, OVERWRITE_OPTION, PROTECTED_YES_OPTION, VERBOSE_OPTION, YES_OPTION
from idflow.cli.state import CliState, state
from idflow.base.errors import EXIT_DRIFT, EXIT_ERROR


def list_events(ctx: typer.Context,
                local: bool = typer.Option(False, "--local", help="Only the event_handlers.json files (no server)."),
                remote: bool = typer.Option(False, "--remote", help="Only the handlers on the server."),
                sync: bool = typer.Option(False, "--sync", help="Local vs server: in sync, changed, to upload."),
                verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """What is local, what is on the server, and how they differ (default: --sync)."""
    from idflow.cli.render.events import render_listing, render_plan
    from idflow.usecases.events import events_list

    cli = state(ctx, json_)
    if sum((local, remote, sync)) > 1:
        raise typer.BadParameter("choose one of --local, --remote, --sync")
    view = "local" if local else "remote" if remote else "sync"
    doc = events_list(cli.session(), view=view).to_json()
    if view == "sync":
        cli.emit(doc, lambda c: render_plan(c, doc, verbose=True))
    else:
        cli.emit(doc, lambda c: render_listing(c, doc))
    if doc.get("errors"):
        raise typer.Exit(EXIT_ERROR)


def diff(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Only these handlers."),
         verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Show what an upload would change, field by field. Exit 0 in sync, 4 on drift."""
    from idflow.cli.render.events import render_plan
    from idflow.usecases.events import events_diff

    cli = state(ctx, json_)
    plan = events_diff(cli.session(), names=names)
    doc = plan.to_json()
    cli.emit(doc, lambda c: render_plan(c, doc, verbose=verbose or cli.verbose))
    if plan.errors:  # a diff missing what a broken file holds is no verdict on drift
        raise typer.Exit(EXIT_ERROR)
    if plan.drift:
        raise typer.Exit(EXIT_DRIFT)


def upload(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Handlers to upload."),
           all_: bool = typer.Option(False, "--all", help="Upload every local handler."),
           dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan, write nothing."),
           overwrite_server_edits: bool = OVERWRITE_OPTION,
           yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Create new and replace changed handlers (the replaced ones backed up first), then verify. A handler
    edited on the server since this project uploaded it is refused without --overwrite-server-edits."""
    from idflow.cli.render.events import render_upload
    from idflow.usecases.events import events_upload

    cli = state(ctx, json_)
    if bool(names) == all_:
        raise typer.BadParameter("name the handlers to upload, or pass --all (not both)")
    outcome = events_upload(cli.session(), names=None if all_ else names, dry_run=dry_run,
                            overwrite_server_edits=overwrite_server_edits)
    doc = outcome.to_json()
    cli.emit(doc, lambda c: render_upload(c, doc))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)


def purge(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Remote handlers to delete."),
          orphaned: bool = typer.Option(False, "--orphaned",
                                        help="Handlers in no local file that provably belong to this project."),
          yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, delete nothing."),
          json_: bool = JSON_OPTION) -> None:
    """Delete remote handlers (backed up first); asks first, refuses without a terminal unless -y."""
    from idflow.cli.render.events import render_purge_plan
    from idflow.cli.render.purge import render_purge_result
    from idflow.usecases.events import events_purge

    cli = state(ctx, json_)
    if bool(names) == orphaned:
        raise typer.BadParameter("name the handlers to delete, or pass --orphaned (not both)")
    outcome = events_purge(cli.session(), names=names or (), orphaned=orphaned, dry_run=dry_run,
                           confirm=cli.confirm_deletes(render_purge_plan, "event handler(s)", yes=yes))
    if outcome.result is None:  # a dry run, or nothing to delete: the confirm step never showed the plan
        render_purge_plan(cli.err, outcome.plan)
    doc = outcome.to_json()
    cli.emit(doc, lambda c: render_purge_result(c, doc, what="handlers", restore_hint=None))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
