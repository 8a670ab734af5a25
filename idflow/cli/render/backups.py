"""Backups and restores."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from idflow.cli.render.text import safe
from idflow.cli.render.writes import render_problems
from rich.table import Table


def render_backups(console: Console, found: list[Any]) -> None:
    table = Table("file", "reason", "created", "definitions", title=f"Backups ({len(found)})", title_justify="left")
    for b in found:
        if b.problem:
            table.add_row(safe(str(b.path)), f"[red]unreadable: {safe(b.problem)}[/]", "", "-")
        else:
            table.add_row(safe(str(b.path)), safe(b.reason), safe(b.created_at), safe(b.count))
    console.print(table)


def render_restore_plan(console: Console, plan: Any) -> None:
    console.print(f"restore from [bold]{safe(plan.source)}[/]:")
    for name in plan.names:
        verb = "[yellow]~ overwrite[/]" if name in plan.replaces else "[green]+ create[/]"
        console.print(f"  {verb} {safe(name)}")


def render_restore(console: Console, outcome: Any) -> None:
    if outcome.dry_run:
        console.print(f"[dim]dry run: would restore {len(outcome.plan.definitions)}; nothing was written[/]")
        return
    doc = outcome.to_json()
    console.print(f"[green]restored {len(doc['restored'])}:[/] {safe(', '.join(doc['restored']))}")
    render_problems(console, doc, failed_word="not restored", backup_note="copies they replaced backed up to")
