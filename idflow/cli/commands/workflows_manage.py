"""`idflow workflows diff|purge|history|rollback`: workflow versions at parity with task definitions."""
from __future__ import annotations

from typing import Any, List, Optional

import typer

from idflow.base.errors import EXIT_DRIFT, EXIT_ERROR, EXIT_REFUSED
from idflow.cli.options import JSON_OPTION, OVERWRITE_OPTION, VERBOSE_OPTION, YES_OPTION
from idflow.cli.state import CliState, state


def diff(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Only these workflows."),
         verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Local vs server per (name, version), field by field, with who changed what since idflow wrote it.
    Exit 0 in sync, 4 on drift, 1 when a workflow file cannot be read."""
    from idflow.cli.render.workflow_manage import render_diff
    from idflow.usecases.workflows_diff import workflows_diff

    cli = state(ctx, json_)
    with cli.progress() as progress:
        found = workflows_diff(cli.session(), names=names or None, progress=progress)
    doc = found.to_json()
    cli.emit(doc, lambda c: render_diff(c, doc, verbose=verbose or cli.verbose or bool(names)))  # named: all shown
    if found.errors:  # a diff missing what a broken file holds is no verdict on drift
        raise typer.Exit(EXIT_ERROR)
    if found.drift:
        raise typer.Exit(EXIT_DRIFT)


def purge(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Workflows to delete (every "
                                                                                    "server version of each)."),
          orphaned: bool = typer.Option(False, "--orphaned",
                                        help="Versions this project wrote whose local file is gone."),
          force: bool = typer.Option(False, "--force", help="Delete even versions in use or running."),
          yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, delete nothing."),
          json_: bool = JSON_OPTION) -> None:
    """Delete workflow versions (backed up first): never one in use, running, not ours or uncertain unless
    --force (by name) says so; asks first, refuses without a terminal unless -y."""
    from idflow.cli.render.workflow_manage import render_purge_plan, render_purge_result
    from idflow.usecases.workflows_purge import WorkflowPurgeOutcome, workflows_purge

    cli = state(ctx, json_)
    if bool(names) == orphaned:
        raise typer.BadParameter("name the workflows to delete, or pass --orphaned (not both)")
    outcome, doc = cli.run("workflows_purge", workflows_purge, WorkflowPurgeOutcome, names=names or (),
                           orphaned=orphaned, force=force, dry_run=dry_run,
                           confirm=cli.confirm_deletes(render_purge_plan, "workflow version(s)", yes=yes))
    if outcome.result is None:  # a dry run, or nothing to delete: the confirm step never showed the plan
        render_purge_plan(cli.err, outcome.plan)
    cli.emit(doc, lambda c: render_purge_result(c, doc))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
    if names and not doc["deleted"] and not dry_run and outcome.plan.skipped:
        raise typer.Exit(EXIT_REFUSED)


def history(ctx: typer.Context, name: str = typer.Argument(..., help="Workflow name."),
            json_: bool = JSON_OPTION) -> None:
    """Commits that changed a version of the workflow, and which commit each server version holds."""
    from idflow.cli.render.workflow_manage import render_history
    from idflow.usecases.workflows_history import workflows_history

    cli = state(ctx, json_)
    found = workflows_history(cli.session(), name)
    doc = found.to_json()
    cli.emit(doc, lambda c: render_history(c, doc))


def rollback(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Workflows to roll back."),
             to: str = typer.Option(..., "--to", help="Git revision to take the definitions from."),
             all_: bool = typer.Option(False, "--all", help="Every workflow defined at that revision."),
             overwrite_server_edits: bool = OVERWRITE_OPTION,
             yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
             json_: bool = JSON_OPTION) -> None:
    """Put workflow versions back as they were at a Git revision (working tree untouched), backed up first;
    refused (exit 3) where the server holds an edit idflow did not write, unless --overwrite-server-edits."""
    from idflow.cli.render.workflow_manage import render_rollback
    from idflow.usecases.workflows_history import WorkflowRollbackOutcome, workflows_rollback

    cli = state(ctx, json_)
    if bool(names) == all_:
        raise typer.BadParameter("name the workflows to roll back, or pass --all (not both)")

    def confirm(planned: Any) -> None:
        for item in planned.to_write:
            cli.err.print(f"roll back {item.label} to {planned.sha[:10]}")
        cli.confirm(f"Roll back {len(planned.to_write)} workflow version(s) to {planned.sha[:10]}?", yes=yes)

    outcome, doc = cli.run("workflows_rollback", workflows_rollback, WorkflowRollbackOutcome, rev=to,
                           names=None if all_ else names, dry_run=dry_run,
                           overwrite_server_edits=overwrite_server_edits, confirm=confirm)
    cli.emit(doc, lambda c: render_rollback(c, doc))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
