"""`idflow workflows backups` and `idflow workflows restore`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from idflow.cli.options import JSON_OPTION, YES_OPTION
from idflow.cli.state import state
from idflow.base.errors import EXIT_ERROR


def backups(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List the workflow backups idflow has written (newest last)."""
    from idflow.cli.render.workflow_backups import render_workflow_backups
    from idflow.usecases.workflow_backups import list_workflow_backups

    cli = state(ctx, json_)
    found = list_workflow_backups(cli.session())
    cli.emit({"backups": [b.to_json() for b in found]}, lambda c: render_workflow_backups(c, found))
    if any(b.problem for b in found):  # listed, and still bad input: exit 1
        raise typer.Exit(EXIT_ERROR)


def restore(ctx: typer.Context, file: Path = typer.Argument(..., help="A workflow backup file."),
            names: Optional[List[str]] = typer.Argument(None, help="Only these workflows (every version held)."),
            yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
            json_: bool = JSON_OPTION) -> None:
    """Put workflow versions back as the backup holds them (backs up what it overwrites); asks first."""
    from idflow.cli.render.backups import render_restore as render_workflow_restore
    from idflow.cli.render.backups import render_restore_plan as render_workflow_restore_plan
    from idflow.usecases.workflow_backups import restore_workflows

    cli = state(ctx, json_)

    def confirm(plan) -> None:
        render_workflow_restore_plan(cli.err, plan)
        overwrites = len(plan.of("overwrite"))
        cli.confirm(f"Restore {len(plan.to_write)} workflow version(s), overwriting {overwrites}?", yes=yes)

    outcome = restore_workflows(cli.session(), file, names=names, dry_run=dry_run, confirm=confirm)
    if outcome.dry_run or not outcome.plan.to_write:  # the confirm step never showed the plan
        render_workflow_restore_plan(cli.err, outcome.plan)
    doc = outcome.to_json()
    cli.emit(doc, lambda c: render_workflow_restore(c, doc))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
