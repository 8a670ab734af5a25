"""Backups and restores."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from idflow.cli.render.text import safe
from idflow.cli.render.writes import ref_label, render_problems
from rich.table import Table


def render_backups(console: Console, found: list[Any]) -> None:
    table = Table("file", "reason", "created", "definitions", title=f"Backups ({len(found)})", title_justify="left")
    for b in found:
        if b.problem:
            table.add_row(safe(str(b.path)), f"[red]unreadable: {safe(b.problem)}[/]", "", "-")
        else:
            table.add_row(safe(str(b.path)), safe(b.reason), safe(b.created_at), safe(b.count))
    console.print(table)


VERBS = {"overwrite": "[yellow]~ overwrite[/]", "create": "[green]+ create[/]", "same": "[dim]= unchanged[/]"}


def render_restore_plan(console: Console, plan: Any) -> None:
    """Any kind's restore plan (idflow.engine.restore.RestorePlan): each object and what happens to it."""
    console.print(f"restore from [bold]{safe(plan.source)}[/]:")
    for item in plan.items:
        console.print(f"  {VERBS[item.action]} {safe(ref_label(item.ref))}")
    if not plan.to_write:
        console.print("[green]The server already holds everything in the backup as it is: nothing to restore.[/]")


def render_restore(console: Console, doc: dict[str, Any]) -> None:
    """Any kind's restore account (RestoreOutcome.to_json())."""
    if doc["dry_run"]:
        console.print(f"[dim]dry run: would restore {len(doc['restore'])}; nothing was written[/]")
        return
    if doc["restored"]:
        console.print(f"[green]restored {len(doc['restored'])}:[/] "
                      f"{safe(', '.join(ref_label(r) for r in doc['restored']))}")
    render_problems(console, doc, failed_word="not restored", backup_note="copies they replaced backed up to")
