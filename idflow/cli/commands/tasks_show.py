"""`idflow tasks show NAME`: one definition, locally and on the server, with provenance and usage."""
from __future__ import annotations

import typer

from idflow.cli.options import JSON_OPTION
from idflow.cli.state import state


def show(ctx: typer.Context, name: str = typer.Argument(..., help="Task name (local or on the server)."),
         json_: bool = JSON_OPTION) -> None:
    """The local definition, the server copy, their difference, provenance, and the workflows that use it."""
    from idflow.cli.render.show import render_show
    from idflow.usecases.show import show as show_task

    cli = state(ctx, json_)
    view = show_task(cli.session(), name)
    cli.emit(view.to_json(), lambda c: render_show(c, view))
