"""Task history through Git, and rollback plans."""
from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape


def render_history(console: Console, found: Any) -> None:
    console.print(f"[bold]{escape(found.name)}[/]: {len(found.entries)} definition change(s)")
    for e in found.entries:
        marks = []
        if found.server_matches == e.commit.sha:
            marks.append("[green]matches the server[/]")
        if found.server_sha == e.commit.sha:
            marks.append("[cyan]stamped on the server[/]")
        console.print(f"[yellow]{e.commit.sha[:10]}[/] {e.commit.date[:10]} {escape(e.commit.author)}  "
                      f"{escape(e.commit.subject)} {' '.join(marks)}")
        if e.task_def is None:
            console.print("    [red]task removed[/]")
        elif not e.changes:
            console.print("    [green]created[/]")
        for f, old, new in e.changes:
            console.print(f"    {f}: [red]{escape(json.dumps(old))}[/] -> [green]{escape(json.dumps(new))}[/]")
    if getattr(found, "shallow", ()):
        console.print("[yellow]shallow clone: history is truncated; the oldest entry may not be where the task "
                      "began ('git fetch --unshallow' for all of it)[/]")
    if found.server is None:
        console.print("[dim]not on the server[/]")
    elif found.server_matches is None:
        console.print("[yellow]the server's definition matches none of these commits[/]")


def render_rollback_plan(console: Console, sha: str, rev: str, plan: Any, json_mode: bool) -> None:
    from idflow.cli.render.tasks import render_diff

    if json_mode:
        return
    console.print(f"rolling back to [yellow]{sha[:10]}[/] ({escape(rev)}):")
    render_diff(console, plan)
