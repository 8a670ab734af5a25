"""Workflow backups and restores."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from idflow.cli.render.text import safe
from idflow.cli.render.writes import render_problems


def _label(entry: dict[str, Any]) -> str:
    return safe(f"{entry['name']} v{entry['version']}")


def render_workflow_backups(console: Console, found: list[Any]) -> None:
    table = Table("file", "reason", "created", "workflow versions", title=f"Workflow backups ({len(found)})",
                  title_justify="left")
    for b in found:
        if b.problem:
            table.add_row(safe(b.path), f"[red]unreadable: {safe(b.problem)}[/]", "", "-")
        else:
            table.add_row(safe(b.path), safe(b.reason), safe(b.created_at), str(b.count))
    console.print(table)


def render_workflow_restore_plan(console: Console, plan: Any) -> None:
    console.print(f"restore workflows from [bold]{safe(plan.source)}[/]:")
    verbs = {"overwrite": "[yellow]~ overwrite[/]", "create": "[green]+ create[/]", "same": "[dim]= unchanged[/]"}
    for item in plan.items:
        console.print(f"  {verbs[item.action]} {safe(f'{item.name} v{item.version}')}")
    if not plan.to_write:
        console.print("[green]The server already holds every version in the backup: nothing to restore.[/]")


def render_workflow_restore(console: Console, doc: dict[str, Any]) -> None:
    if doc["dry_run"]:
        console.print(f"[dim]dry run: would restore {len(doc['restore'])}; nothing was written[/]")
        return
    if doc["restored"]:
        console.print(f"[green]restored {len(doc['restored'])}:[/] {', '.join(_label(e) for e in doc['restored'])}")
    render_problems(console, doc, failed_word="not restored", backup_note="copies they replaced backed up to")

