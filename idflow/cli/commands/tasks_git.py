"""`idflow tasks history` and `idflow tasks rollback`: definitions through Git."""
from __future__ import annotations

from typing import List, Optional
import os

import typer

from idflow.cli.options import JSON_OPTION, PREFECT_OPTION, YES_OPTION
from idflow.cli.state import state
from idflow.base.errors import EXIT_ERROR
from idflow import usecases
from idflow.cli.prefect_bridge import prefect_api_url as from_settings


def history(ctx: typer.Context, name: str = typer.Argument(..., help="Task name."), json_: bool = JSON_OPTION) -> None:
    """Commits that changed the task's definition (not every commit that touched its file)."""
    from idflow.cli.render.history import render_history

    cli = state(ctx, json_)
    found = usecases.history(cli.session(), name)
    cli.emit(found.to_json(), lambda c: render_history(c, found))


def rollback(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Tasks to roll back."),
             to: str = typer.Option(..., "--to", help="Git revision to take the definitions from."),
             all_: bool = typer.Option(False, "--all", help="Every task defined at that revision."),
             yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
             pause_schedules: bool = typer.Option(
                 False, "--pause-schedules",
                 help="Pause the active scheduled syncs (Prefect) that would undo the rollback, then roll back."),
             prefect: bool = PREFECT_OPTION, json_: bool = JSON_OPTION) -> None:
    """Put back the definitions as they were at a Git revision (working tree untouched).

    Refused (exit 3) while a Prefect deployment of the sync flow has an active schedule for this
    environment, since its next run would undo the rollback: pass --pause-schedules, or revert the
    commit in Git and let the sync apply it. When Prefect cannot be asked, only --yes goes on."""
    from idflow.cli.render.history import render_rollback_plan, render_schedule_check
    from idflow.usecases.revisions import ScheduleGuard
    from idflow.cli.render.tasks import render_apply

    cli = state(ctx, json_)
    if bool(names) == all_:
        raise typer.BadParameter("name the tasks to roll back, or pass --all (not both)")

    def confirm(planned) -> None:
        sha, plan = planned
        render_rollback_plan(cli.err, sha, to, plan.plan, cli.json)
        cli.confirm(f"Roll back {len(plan.plan.to_write)} definition(s) to {sha[:10]}?", yes=yes)

    if prefect and not dry_run:  # a flow run cannot ask: confirm before it starts
        cli.confirm(f"Roll back to {to} as a Prefect flow run? The definitions will be overwritten without "
                    "asking again.", yes=yes)
    guard = None if dry_run or prefect else ScheduleGuard(prefect_api_url(), pause=pause_schedules,
                                                          proceed_unchecked=yes)
    selected = None if all_ else names
    outcome, doc = cli.run("rollback", usecases.rollback, usecases.RollbackOutcome, prefect=prefect,
                           flow_params={"to": to, "task_names": selected, "dry_run": dry_run,
                                        "pause_schedules": pause_schedules},
                           rev=to, names=selected, dry_run=dry_run, confirm=confirm, schedules=guard)
    render_schedule_check(cli.err, outcome.schedules)
    if outcome.upload.result is None or not outcome.upload.plan.to_write:
        render_rollback_plan(cli.err, outcome.to, to, outcome.upload.plan, cli.json)
    cli.emit(doc, lambda c: render_apply(c, doc))
    if not outcome.ok:  # a partial rollback is a failure too
        raise typer.Exit(EXIT_ERROR)


def prefect_api_url() -> str | None:
    """PREFECT_API_URL from the environment; else Prefect's own settings (its profile), which costs
    the Prefect import, so only a rollback without the variable pays it."""
    if os.environ.get("PREFECT_API_URL"):
        return os.environ["PREFECT_API_URL"]

    return from_settings()
