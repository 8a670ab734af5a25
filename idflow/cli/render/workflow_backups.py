"""Workflow backups and restores."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from idflow.cli.render.text import safe


def render_workflow_backups(console: Console, found: list[Any]) -> None:
    table = Table("file", "reason", "created", "workflow versions", title=f"Workflow backups ({len(found)})",
                  title_justify="left")
    for b in found:
        if b.problem:
            table.add_row(safe(b.path), f"[red]unreadable: {safe(b.problem)}[/]", "", "-")
        else:
            table.add_row(safe(b.path), safe(b.reason), safe(b.created_at), str(b.count))
    console.print(table)
