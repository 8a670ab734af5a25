"""`idflow init`: set up the current repository (config with a project identity, an example task, prefect.yaml)."""
from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING, Optional

import typer

from idflow.cli.options import JSON_OPTION
from idflow.cli.state import state
from idflow.taskdefs.scaffold import check_name
from idflow.project.scaffold import init_project

if TYPE_CHECKING:
    from rich.console import Console


def init(ctx: typer.Context,
         task: Optional[str] = typer.Option(None, "--task", help="Name of the example task to write "
                                            "(default: the project identity + _hello, unique on a shared server)."),
         force: bool = typer.Option(False, "--force", help="Overwrite files that exist; each old one is kept as NAME.TIME.bak "
                                                     "(the project identity and server URL are kept)."),
         json_: bool = JSON_OPTION) -> None:
    """Write config/idflow.yml (with this project's identity), idflow/tasks/TASK/ and prefect.yaml here."""
    cli = state(ctx, json_)
    if task is not None:
        check_name(task)
    result = init_project(Path.cwd(), task=task, server_url=cli.server_url, force=force)

    def render(console: Console) -> None:
        from idflow.cli.render.text import safe as escape  # foreign text: no control characters, no markup

        console.print(f"project identity: [bold]{escape(result.project)}[/]"
                      + (" (kept from the existing config)" if result.project_kept else ""))
        for rel in result.created:
            console.print(f"  created     {escape(rel)}")
        for rel in result.overwritten:
            console.print(f"  overwritten {escape(rel)} (the old one is now {escape(result.backups.get(rel, '?'))})")
        console.print("[dim]next: `idflow doctor`, then `idflow tasks upload --all`; commit config/idflow.yml[/]")

    cli.emit(result.to_json(), render)
