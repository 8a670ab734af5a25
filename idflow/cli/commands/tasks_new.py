"""`idflow tasks new NAME`: scaffold a task dir."""
from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from idflow.cli.options import JSON_OPTION
from idflow.cli.state import state
from idflow.discovery import discover, display_path
from idflow.taskdefs.scaffold import check_name, create_task

if TYPE_CHECKING:  # rich only when something is printed
    from rich.console import Console


def new_task(ctx: typer.Context, name: str = typer.Argument(..., help="Task name: a Python identifier."),
             json_: bool = JSON_OPTION) -> None:
    """Scaffold tasks_dir/NAME/ (NAME.py, __init__.py, requirements.txt); never overwrites."""
    cli = state(ctx, json_)
    check_name(name)
    config = cli.config()
    tasks_dir = config.resolve(config.tasks_dir)
    existing = frozenset(discover(tasks_dir).by_name()) if tasks_dir.is_dir() else frozenset()
    created = [display_path(p) for p in create_task(tasks_dir, name, existing_names=existing)]

    def render(console: Console) -> None:
        from idflow.cli.render.text import safe as escape  # names and paths from files

        console.print(f"created task [bold]{escape(name)}[/]:")
        for path in created:
            console.print(f"  {escape(path)}")
        console.print(f"[dim]next: edit {escape(created[1])}, then `idflow tasks list --local`[/]")

    cli.emit({"task": name, "created": created}, render)
