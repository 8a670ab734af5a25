"""`idflow events import|pull` and `idflow workflows import|pull`: what is on the server back into the code."""
from __future__ import annotations

from typing import Any, Callable, List, Optional

import typer

from idflow.base.errors import EXIT_ERROR
from idflow.cli.options import JSON_OPTION, PROTECTED_YES_OPTION
from idflow.cli.state import state

NAMES = typer.Argument(None, help="Names to import or pull.")
DRY_RUN = typer.Option(False, "--dry-run", help="List the files it would write, write nothing.")
ALL_UNMANAGED = typer.Option(False, "--all-unmanaged", help="Everything only on the server (no local file).")
ALL = typer.Option(False, "--all", help="Everything edited on the server since idflow wrote it.")


def _render_import(outcome: Any) -> Callable[[Any], None]:
    from idflow.cli.render.text import safe

    def render(console: Any) -> None:
        verb = "would write" if outcome.dry_run else "wrote"
        for item in outcome.files:
            console.print(f"[green]{verb}[/] {safe(item.path)} ({safe(', '.join(item.names))})")
        for skip in outcome.skipped:
            console.print(f"[dim]skipped {safe(skip.name)}: {safe(skip.reason)}[/]")
        if not outcome.files:
            console.print("[green]Nothing to import.[/]")
        if outcome.ledger_problem:
            console.print(f"[yellow]warning:[/] {safe(outcome.ledger_problem)}")
    return render


def _render_pull(outcome: Any) -> Callable[[Any], None]:
    from idflow.cli.render.text import safe

    def render(console: Any) -> None:
        verb = "would pull" if outcome.dry_run else "pulled"
        for item in outcome.pulls:
            console.print(f"[yellow]{verb}[/] {safe(item.label)} into {safe(item.path)}: "
                          f"{safe(', '.join(item.changes[:8]))}")
        for refused in outcome.refused:
            console.print(f"[red]refused[/] {safe(refused.name)}: {safe(refused.reason)}")
        if not outcome.pulls and not outcome.refused:
            console.print("[green]Nothing edited on the server: nothing to pull.[/]")
        if outcome.ledger_problem:
            console.print(f"[yellow]warning:[/] {safe(outcome.ledger_problem)}")
    return render


def _check(names: Optional[List[str]], flag: bool, what: str) -> None:
    if bool(names) == flag:
        raise typer.BadParameter(f"name the {what}, or pass the flag for all of them (not both)")


def events_import(ctx: typer.Context, names: Optional[List[str]] = NAMES, all_unmanaged: bool = ALL_UNMANAGED,
                  dry_run: bool = DRY_RUN, yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Write server-only event handlers into new event_handlers.json files (never over an existing file),
    one per workflow they belong to, and record them as this project's."""
    from idflow.usecases.events_pull import events_import as run_import

    cli = state(ctx, json_)
    _check(names, all_unmanaged, "handlers to import")
    outcome = run_import(cli.session(), names=names or (), dry_run=dry_run)
    cli.emit(outcome.to_json(), _render_import(outcome))


def events_pull(ctx: typer.Context, names: Optional[List[str]] = NAMES, all_: bool = ALL, dry_run: bool = DRY_RUN,
                yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Bring handlers edited on the server back into their event_handlers.json (only the changed values
    move; key order and indentation stay). A conflict (the file changed too) is refused with the reason."""
    from idflow.usecases.events_pull import events_pull as run_pull

    cli = state(ctx, json_)
    _check(names, all_, "handlers to pull")
    outcome = run_pull(cli.session(), names=names or (), dry_run=dry_run)
    cli.emit(outcome.to_json(), _render_pull(outcome))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)


def workflows_import(ctx: typer.Context, names: Optional[List[str]] = NAMES, all_unmanaged: bool = ALL_UNMANAGED,
                     dry_run: bool = DRY_RUN, yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Write server-only workflow versions into new files, workflows_dir/NAME/NAME.json (NAME.vN.json for
    several versions), never over an existing file, and record them as this project's."""
    from idflow.usecases.workflows_pull import workflows_import as run_import

    cli = state(ctx, json_)
    _check(names, all_unmanaged, "workflows to import")
    outcome = run_import(cli.session(), names=names or (), dry_run=dry_run)
    cli.emit(outcome.to_json(), _render_import(outcome))


def workflows_pull(ctx: typer.Context, names: Optional[List[str]] = NAMES, all_: bool = ALL, dry_run: bool = DRY_RUN,
                   yes: bool = PROTECTED_YES_OPTION, json_: bool = JSON_OPTION) -> None:
    """Bring workflow versions edited on the server back into their JSON files (only the changed values
    move). A conflict (the file changed too) or a version idflow has no record of is refused."""
    from idflow.usecases.workflows_pull import workflows_pull as run_pull

    cli = state(ctx, json_)
    _check(names, all_, "workflows to pull")
    outcome = run_pull(cli.session(), names=names or (), dry_run=dry_run)
    cli.emit(outcome.to_json(), _render_pull(outcome))
    if not outcome.ok:
        raise typer.Exit(EXIT_ERROR)
