"""`idflow tasks pull` and `tasks import`: what is on the server comes back into the code."""
from __future__ import annotations

from typing import List, Optional

import typer

from idflow.cli.options import JSON_OPTION, PROTECTED_YES_OPTION
from idflow.cli.state import state
from idflow.base.errors import EXIT_ERROR


def pull(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Tasks to pull."),
         all_: bool = typer.Option(False, "--all", help="Every task edited on the server."),
         dry_run: bool = typer.Option(False, "--dry-run", help="Show which keywords would change, write nothing."),
         yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Rewrite the decorator keywords of tasks edited on the server (every other byte kept), then
    stamp the pulled state as the base. A conflict or a keyword that is not a literal is refused."""
    from idflow.cli.render.text import safe
    from idflow.usecases.pull import pull as pull_edits

    cli = state(ctx, json_)
    if bool(names) == all_:
        raise typer.BadParameter("name the tasks to pull, or pass --all (not both)")
    outcome = pull_edits(cli.session(), names=None if all_ else names, dry_run=dry_run)

    def render(console) -> None:
        if not outcome.pulls:
            console.print("[green]Nothing edited on the server: nothing to pull.[/]")
        for item in outcome.pulls:
            verb = "would set" if outcome.dry_run else "set"
            values = ", ".join(f"{e.keyword}={e.value!r}" for e in item.edits)
            console.print(f"[yellow]{verb}[/] {safe(values)} in {safe(item.path)} ({safe(item.name)})")

    cli.emit(outcome.to_json(), render)
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)


def import_(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Definitions to import."),
            all_unmanaged: bool = typer.Option(False, "--all-unmanaged",
                                               help="Every definition only on the server that is not this "
                                                    "project's (another idflow project's only with --take-over)."),
            dry_run: bool = typer.Option(False, "--dry-run", help="List the files it would write, write nothing."),
            take_over: bool = typer.Option(False, "--take-over",
                                           help="Import definitions another idflow project stamped (recorded)."),
            yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Write a task file for each definition that exists only on the server (never over an existing
    file), then stamp the server copies as this project's. Review the generated files."""
    from idflow.cli.render.text import safe
    from idflow.usecases.importing import import_definitions

    cli = state(ctx, json_)
    if bool(names) == all_unmanaged:
        raise typer.BadParameter("name the definitions to import, or pass --all-unmanaged (not both)")
    outcome = import_definitions(cli.session(), names=names or (), dry_run=dry_run, take_over=take_over)

    def render(console) -> None:
        verb = "would write" if outcome.dry_run else "wrote"
        for item in outcome.items:
            console.print(f"[green]{verb}[/] {safe(item.path)} ({safe(item.name)})")
        for skip in outcome.skipped:
            console.print(f"[dim]skipped {safe(skip['name'])}: {safe(skip['reason'])}[/]")
        if not outcome.items:
            console.print("[green]Nothing to import.[/]")
        elif not outcome.dry_run:
            console.print("[dim]generated files: review them, then write each worker[/]")

    cli.emit(outcome.to_json(), render)
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
