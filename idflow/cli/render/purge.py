"""Purge plans and results: what goes (and anything FORCED), what stays and why."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from idflow.cli.render.text import name_list, natural_key, safe
from idflow.cli.render.writes import render_problems

MAX_USES_SHOWN = 10


def render_purge_plan(console: Console, purge: Any) -> None:
    for d in sorted(purge.deletions, key=lambda d: natural_key(d.name)):
        console.print(f"[red]- delete {safe(d.name)}[/] [dim]({safe(d.reason)})[/]")
        if d.forced_uses:
            console.print(f"  [bold red]FORCED: still used by {len(d.forced_uses)} place(s):[/]")
            for use in d.forced_uses:
                console.print(f"    [red]{safe(use)}[/]")
        if d.note:
            console.print(f"  [yellow]note:[/] {safe(d.note)}")
    for s in sorted(purge.skipped, key=lambda s: natural_key(s.name)):
        console.print(f"[green]= keep {safe(s.name)}[/] [dim]({safe(s.reason)})[/]")
        for use in s.used_by[:MAX_USES_SHOWN]:
            console.print(f"    used by {safe(use)}")
        if len(s.used_by) > MAX_USES_SHOWN:
            console.print(f"    ... and {len(s.used_by) - MAX_USES_SHOWN} more")
    if not purge.deletions:
        console.print("[green]Nothing to delete.[/]")


def render_purge_result(console: Console, doc: dict[str, Any], *, what: str = "definitions",
                        restore_hint: str | None = "idflow tasks restore FILE") -> None:
    """The account of a purge of task definitions, or (`what`) of anything else deleted the same way."""
    if doc["deleted"]:
        console.print(f"[red]deleted {len(doc['deleted'])}:[/] {name_list(doc['deleted'])}")
    render_problems(console, doc, failed_word="not deleted", backup_note=f"deleted {what} backed up to",
                    restore_hint=restore_hint)
    if doc["would_delete"]:
        console.print(f"[dim]dry run: would delete {len(doc['would_delete'])}; nothing was deleted[/]")
