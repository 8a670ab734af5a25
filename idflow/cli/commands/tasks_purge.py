"""`idflow tasks purge` and `idflow tasks sync`: delete only what is safe, after asking."""
from __future__ import annotations

from typing import Any, List, Optional

import typer

from idflow.cli.options import JSON_OPTION, OVERWRITE_OPTION, PREFECT_OPTION, VERBOSE_OPTION, YES_OPTION
from idflow.cli.state import CliState, state
from idflow.base.errors import EXIT_ERROR, EXIT_REFUSED
from idflow import usecases


def _show_unconfirmed(cli: CliState, outcome: Any) -> None:
    """A dry run or a plan with nothing to delete was never shown by the confirm step."""
    from idflow.cli.render.purge import render_purge_plan

    if outcome.result is None:
        render_purge_plan(cli.err, outcome.plan)


def _confirm_flow(cli: CliState, yes: bool, what: str) -> None:
    """A flow run cannot ask: confirm before it starts."""
    cli.confirm(f"{what} as a Prefect flow run? Orphaned definitions no workflow uses will be deleted "
                "without asking again.", yes=yes)


def purge(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Remote definitions to delete."),
          orphaned: bool = typer.Option(False, "--orphaned", help="Definitions idflow uploaded whose source is gone."),
          include_foreign: bool = typer.Option(False, "--include-foreign",
                                               help="With --orphaned: also definitions idflow never uploaded."),
          force: bool = typer.Option(False, "--force", help="Delete even when workflows use them."),
          yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, delete nothing."),
          prefect: bool = typer.Option(False, "--prefect", help="With --orphaned: run as a Prefect flow run."),
          json_: bool = JSON_OPTION) -> None:
    """Delete remote definitions: never one a workflow uses (unless --force); asks first."""
    from idflow.cli.render.purge import render_purge_plan, render_purge_result

    cli = state(ctx, json_)
    if bool(names) == orphaned:
        raise typer.BadParameter("name the definitions to delete, or pass --orphaned (not both)")
    if prefect and (names or force):
        raise typer.BadParameter("--prefect runs the purge_orphaned flow: only with --orphaned, without --force")
    if prefect and not dry_run:
        _confirm_flow(cli, yes, "Purge")
    with cli.progress() as progress:
        outcome, doc = cli.run("purge_orphaned", usecases.purge, usecases.PurgeOutcome, prefect=prefect,
                               flow_params={"include_foreign": include_foreign, "dry_run": dry_run},
                               names=names or (), orphaned=orphaned, include_foreign=include_foreign, force=force,
                               dry_run=dry_run, progress=progress,
                               confirm=cli.confirm_deletes(render_purge_plan, "task definition(s)", yes=yes))
    _show_unconfirmed(cli, outcome)
    cli.emit(doc, lambda c: render_purge_result(c, doc))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
    if names and not doc["deleted"] and not dry_run and outcome.plan.skipped:
        raise typer.Exit(EXIT_REFUSED)


def sync(ctx: typer.Context, prune: bool = typer.Option(False, "--prune", help="Also purge orphaned definitions."),
         yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
         overwrite_server_edits: bool = OVERWRITE_OPTION,
         prefect: bool = PREFECT_OPTION, verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Full synchronisation: upload new and changed; with --prune, purge orphans safely."""
    from idflow.cli.render.purge import render_purge_plan, render_purge_result
    from idflow.cli.render.tasks import render_apply, render_diff, render_provenance_warnings

    cli = state(ctx, json_)
    verbose = verbose or cli.verbose
    if prefect and prune and not dry_run:
        _confirm_flow(cli, yes, "Sync with --prune")
    with cli.progress() as progress:
        outcome, doc = cli.run("sync", usecases.sync, usecases.SyncOutcome, prefect=prefect,
                               flow_params={"prune": prune, "dry_run": dry_run,
                                            "overwrite_server_edits": overwrite_server_edits},
                               prune=prune, dry_run=dry_run, overwrite_server_edits=overwrite_server_edits,
                               progress=progress,
                               confirm=cli.confirm_deletes(render_purge_plan, "task definition(s)", yes=yes))
    render_provenance_warnings(cli.err, outcome.upload.planned)
    if not cli.json:
        if dry_run or verbose:
            render_diff(cli.err, outcome.upload.plan, verbose)
        render_apply(cli.err, doc["upload"])
        _render_server_edits(cli, outcome.server_edits)
    if outcome.purge is not None:
        _show_unconfirmed(cli, outcome.purge)
    if outcome.purge_skipped:
        cli.err.print(f"[red]purge not attempted:[/] {outcome.purge_skipped}")
    cli.emit(doc, lambda c: render_purge_result(c, doc["purge"]) if outcome.purge is not None else None)
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)


def _render_server_edits(cli, edits) -> None:
    """What the environment's server_edits policy did (config key server_edits: refuse|overwrite|pull)."""
    from idflow.cli.render.text import safe

    if edits is None or not edits.reportable:
        return
    for edit in edits.edits:
        cli.err.print(f"[yellow]edited on the server, pulled:[/] {safe(edit.kind)} {safe(edit.name)} "
                      f"({safe(edit.path)})")
    if edits.branch:
        verb = "pushed to" if edits.branch["pushed"] else "already on"
        cli.err.print(f"[green]{verb} branch[/] {safe(edits.branch['branch'])} for review "
                      f"({safe(edits.branch['commit'][:12])})")
