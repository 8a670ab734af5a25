"""`idflow tasks adopt --from OLD_ID [NAME...]`: re-stamp definitions of an older identity as this project's."""
from __future__ import annotations

from typing import List, Optional

import typer

from idflow.cli.options import JSON_OPTION, PREFECT_OPTION, YES_OPTION
from idflow.cli.state import state
from idflow.base.errors import EXIT_ERROR


def adopt(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Only these definitions."),
          from_project: Optional[str] = typer.Option(None, "--from", help="The old identity their stamp names (e.g. an old "
                                           "directory name; `idflow tasks list --sync -v` shows each stamp's "
                                           "project)."),
          without_project: bool = typer.Option(False, "--without-project",
                                               help="Adopt definitions idflow stamped without any project."),
          yes: bool = YES_OPTION, dry_run: bool = typer.Option(False, "--dry-run", help="Show, change nothing."),
          prefect: bool = PREFECT_OPTION, json_: bool = JSON_OPTION) -> None:
    """Take over definitions stamped under an older project identity (a dry run first; asks, or -y).

    --from takes a `project:` value or a remote URL in any form (https, ssh, scp-like, .git or not).
    Without -y and without a terminal it only shows what it would re-stamp."""
    from idflow.cli.render.adopt import render_adopt_outcome, render_adopt_plan
    from idflow.usecases.adopt import AdoptOutcome, adopt as adopt_definitions

    cli = state(ctx, json_)
    if (from_project is None) == (not without_project):
        raise typer.BadParameter("name the old identity with --from OLD, or pass --without-project (not both)")
    if not yes and not cli.can_prompt:  # the README's promise: a dry run unless -y
        dry_run = True

    def confirm(plan) -> None:
        render_adopt_plan(cli.err, plan)  # on stderr: seen before the question, even with --json
        cli.confirm(f"Re-stamp {len(plan.names)} definition(s) as project {plan.to_project}?", yes=yes)

    if prefect and not dry_run:  # a flow run cannot ask: confirm before it starts
        cli.confirm(f"Re-stamp the definitions of {from_project or 'no project'} as this project's, as a Prefect "
                    "flow run, without asking again?", yes=yes)
    with cli.progress() as progress:
        outcome, doc = cli.run("adopt", adopt_definitions, AdoptOutcome, prefect=prefect,
                               flow_params={"from_project": from_project, "names": names or None, "dry_run": dry_run},
                               from_project=from_project, names=names or (), dry_run=dry_run, confirm=confirm,
                               progress=progress)
    cli.emit(doc, lambda console: render_adopt_outcome(console, outcome))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
