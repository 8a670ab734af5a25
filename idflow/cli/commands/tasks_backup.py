"""`idflow tasks backup`, `backups` and `restore`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from idflow.cli.options import JSON_OPTION, YES_OPTION
from idflow.cli.state import state
from idflow.base.errors import EXIT_ERROR
from idflow import usecases


def backup(ctx: typer.Context, out: Optional[Path] = typer.Option(None, "--out", help="Write here instead."),
           json_: bool = JSON_OPTION) -> None:
    """Snapshot every remote task definition into a backup file."""
    from idflow.cli.render.text import safe as escape  # foreign text: no control characters, no markup

    cli = state(ctx, json_)
    snapshot = usecases.backup(cli.session(), out=out)
    cli.emit(snapshot.to_json(),
             lambda c: c.print(f"backed up {snapshot.count} definition(s) to {escape(snapshot.backup)}"))


def backups(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List the backups idflow has written (newest last)."""
    from idflow.cli.render.backups import render_backups

    cli = state(ctx, json_)
    found = usecases.list_backups(cli.session())
    cli.emit({"backups": [b.to_json() for b in found]},
             lambda c: render_backups(c, found))
    if any(b.problem for b in found):  # listed, and still bad input: exit 1
        raise typer.Exit(EXIT_ERROR)


def restore(ctx: typer.Context, file: Path = typer.Argument(..., help="A backup file."),
            names: Optional[List[str]] = typer.Argument(None, help="Only these definitions."),
            yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
            json_: bool = JSON_OPTION) -> None:
    """Restore definitions from a backup file, exactly as they were (backs up what it overwrites)."""
    from idflow.cli.render.backups import render_restore_plan, render_restore

    cli = state(ctx, json_)

    def confirm(plan) -> None:
        render_restore_plan(cli.err, plan)
        cli.confirm(f"Restore {len(plan.to_write)} definition(s), overwriting {len(plan.of('overwrite'))}?", yes=yes)

    with cli.progress() as progress:
        outcome = usecases.restore(cli.session(), file, names=names, dry_run=dry_run, confirm=confirm,
                                   progress=progress)
    if outcome.dry_run or not outcome.plan.to_write:  # the confirm step never showed the plan
        render_restore_plan(cli.err, outcome.plan)
    doc = outcome.to_json()
    cli.emit(doc, lambda c: render_restore(c, doc))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
