"""`idflow tasks diff`, `upload` and `apply`: plan first, write only what changed."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from idflow.cli.options import (JSON_OPTION, OVERWRITE_OPTION, PREFECT_OPTION, PROTECTED_YES_OPTION,
                                VERBOSE_OPTION)
from idflow.cli.state import state
from idflow.base.errors import EXIT_DRIFT, EXIT_ERROR
from idflow import usecases
from idflow.engine.backups import write_json_file


def diff(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Only these tasks."),
         out: Optional[Path] = typer.Option(None, "--out", help="Write the plan as JSON (apply it later)."),
         prefect: bool = PREFECT_OPTION, verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Show what an upload would change, field by field. Exit 0 in sync, 4 on drift."""
    from idflow.cli.render.tasks import render_diff

    cli = state(ctx, json_)
    planned, doc = cli.run("diff", usecases.diff, usecases.UploadPlan, prefect=prefect,
                           flow_params={"task_names": names or None}, document=cli.json, names=names)
    if out:
        write_json_file(out, planned.to_json())
        from idflow.cli.render.text import safe

        cli.err.print(f"[dim]plan written to {safe(out)}[/]")
    cli.emit(doc, lambda c: render_diff(c, planned.plan, verbose or cli.verbose))
    if planned.drift:
        raise typer.Exit(EXIT_DRIFT)


def upload(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Tasks to upload."),
           all_: bool = typer.Option(False, "--all", help="Upload every local task."),
           force: bool = typer.Option(False, "--force", help="Write even unchanged definitions."),
           dry_run: bool = typer.Option(False, "--dry-run", help="Show the plan, write nothing."),
           require_clean: Optional[bool] = typer.Option(None, "--require-clean/--allow-dirty",
                                                        help="Refuse when task files have uncommitted changes."),
           overwrite_server_edits: bool = OVERWRITE_OPTION,
           take_over: bool = typer.Option(False, "--take-over",
                                          help="Write over definitions another idflow project stamped (recorded)."),
           yes: bool = PROTECTED_YES_OPTION,
           prefect: bool = PREFECT_OPTION, verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Upload new and changed definitions (merged into the server's copy, then verified).

    Refused (exit 3) when it would revert an edit made on the server since idflow uploaded the
    definition, or write over another idflow project's definition; --force never implies either."""
    from idflow.cli.render.tasks import render_provenance_warnings, render_upload, render_upload_preview

    cli = state(ctx, json_)
    if bool(names) == all_:
        raise typer.BadParameter("name the tasks to upload, or pass --all (not both)")
    selected = None if all_ else names

    def preview(planned) -> None:  # what is about to be written, on stderr, before the first write
        if not cli.json:
            render_upload_preview(cli.err, planned.plan)

    with cli.progress("uploading") as progress:
        outcome, doc = cli.run("upload", usecases.upload, usecases.UploadOutcome, prefect=prefect,
                               flow_params={"task_names": selected, "force": force, "dry_run": dry_run,
                                            "require_clean": require_clean,
                                            "overwrite_server_edits": overwrite_server_edits, "take_over": take_over},
                               document=cli.json, names=selected, force=force, dry_run=dry_run, require_clean=require_clean,
                               overwrite_server_edits=overwrite_server_edits, take_over=take_over,
                               progress=progress, preview=preview)
    render_provenance_warnings(cli.err, outcome.planned)
    cli.emit(doc, lambda c: render_upload(c, outcome, verbose or cli.verbose))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)


def apply(ctx: typer.Context, plan_file: Path = typer.Argument(..., help="A plan written by 'tasks diff --out'."),
          overwrite_server_edits: bool = OVERWRITE_OPTION,
          yes: bool = PROTECTED_YES_OPTION, prefect: bool = PREFECT_OPTION, json_: bool = JSON_OPTION) -> None:
    """Apply a saved plan, only if the server still looks as it did when planned."""
    from idflow.cli.render.tasks import render_provenance_warnings, render_upload

    cli = state(ctx, json_)
    with cli.progress("uploading") as progress:
        outcome, doc = cli.run("apply", usecases.apply_plan_file, usecases.UploadOutcome, prefect=prefect,
                               flow_params={"plan_file": str(plan_file.resolve()),
                                            "overwrite_server_edits": overwrite_server_edits},
                               document=cli.json, plan_file=plan_file,
                               overwrite_server_edits=overwrite_server_edits, progress=progress)
    cli.emit(doc, lambda c: render_upload(c, outcome))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
