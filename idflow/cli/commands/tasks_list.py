"""`idflow tasks list [--local|--remote|--sync] [--wide]`."""
from __future__ import annotations

import typer

from idflow.cli.options import JSON_OPTION, VERBOSE_OPTION
from idflow.cli.state import state
from idflow.base.errors import EXIT_ERROR
from idflow import usecases


def list_tasks(ctx: typer.Context,
               local: bool = typer.Option(False, "--local", help="Only the task files (no server needed)."),
               remote: bool = typer.Option(False, "--remote",
                                           help="Only the definitions on the server, with how many workflows use each."),
               sync: bool = typer.Option(False, "--sync", help="Local vs server: in sync, changed, to upload, orphaned."),
               wide: bool = typer.Option(False, "--wide", "-w",
                                         help="More columns: every field, where it came from, how many workflows use it."),
               verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """What is local, what is on the server, and how they differ (default: --sync)."""
    cli = state(ctx, json_)
    verbose = verbose or cli.verbose
    if sum((local, remote, sync)) > 1:
        raise typer.BadParameter("choose one of --local, --remote, --sync")
    config = cli.config()
    if local:
        from idflow.cli.render.local import render_local

        discovery = usecases.discover(config)
        cli.emit(discovery.to_json(), lambda c: render_local(c, discovery, verbose))
        if discovery.errors:
            raise typer.Exit(EXIT_ERROR)
        return
    if remote:
        from idflow.cli.render.tasks import render_remote
        from idflow.usecases.show import list_remote

        listing = list_remote(cli.session())
        cli.emit(listing.to_json(), lambda c: render_remote(c, listing.taskdefs, verbose, wide=wide,
                                                            usage=listing.usage, uncertain=listing.uncertain))
        return
    listing = usecases.list_sync(cli.session())
    usage = None
    if wide:  # the workflows are fetched only when asked: --sync stays one GET of the definitions
        from idflow.usecases.show import count_uses, fetch_workflows

        usage, _uncertain = count_uses(fetch_workflows(cli.session()), listing.plan.summary()["remote"])

    def render(console) -> None:
        from idflow.cli.render.tasks import render_issues, render_sync  # rich: not for --json

        render_sync(console, listing.plan, verbose, wide=wide, usage=usage)
        render_issues(console, listing.discovery.issues)

    cli.emit(listing.to_json(verbose=verbose), render)
    if listing.discovery.errors:
        raise typer.Exit(EXIT_ERROR)
