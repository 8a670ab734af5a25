"""Task history through Git, and rollback plans.

Each commit is a header line (sha, date, author), then labelled lines: the commit's
subject under `subject:`, what the server holds under `server:`, then the field changes;
a subject never runs into idflow's own labels.
"""
from __future__ import annotations

from typing import Any

from rich.console import Console

from idflow.cli.render.text import json_value, safe
from idflow.cli.render.tasks import render_diff


def _server_labels(found: Any, sha: str) -> list[str]:
    labels = []
    if found.server_matches == sha:
        labels.append("[green]its definition is the one on the server[/]")
    if found.server_sha == sha:
        labels.append("[cyan]the server's copy is stamped with this commit[/]")
    return labels


def render_history(console: Console, found: Any) -> None:
    console.print(f"[bold]{safe(found.name)}[/]: {len(found.entries)} definition change(s)")
    for e in found.entries:
        console.print(f"[yellow]{safe(e.commit.sha[:10])}[/] {safe(e.commit.date[:10])} {safe(e.commit.author)}")
        console.print(f"    [dim]subject:[/] {safe(e.commit.subject)}")
        labels = _server_labels(found, e.commit.sha)
        if labels:
            console.print(f"    [dim]server:[/]  {'; '.join(labels)}")
        if e.task_def is None:
            console.print("    [red]task removed[/]")
        elif not e.changes:
            console.print("    [green]created[/]")
        for f, old, new in e.changes:
            console.print(f"    {safe(f)}: [red]{json_value(old)}[/] -> [green]{json_value(new)}[/]")
    if getattr(found, "shallow", ()):
        console.print("[yellow]shallow clone: history is truncated; the oldest entry may not be where the task "
                      "began ('git fetch --unshallow' for all of it)[/]")
    if found.server is None:
        console.print("[dim]not on the server[/]")
    elif found.server_matches is None:
        console.print("[yellow]the server's definition matches none of these commits[/]")


def render_rollback_plan(console: Console, sha: str, rev: str, plan: Any, json_mode: bool) -> None:
    if json_mode:
        return
    console.print(f"rolling back to [yellow]{safe(sha[:10])}[/] ({safe(rev)}):")
    render_diff(console, plan)


def render_schedule_check(err: Console, check: Any) -> None:
    """On stderr: the sync schedules a rollback paused, each with the command that resumes it,
    or why the schedules could not be checked."""
    if check is None:
        return
    if check.note:
        err.print(f"[yellow]warning:[/] {safe(check.note)}")
    for schedule in check.paused:
        err.print(f"[yellow]paused sync schedule[/] {safe(schedule.deployment)} ({safe(schedule.schedule)}); "
                  "resume it with:")
        err.print(f"    {safe(schedule.resume_command)}", soft_wrap=True)
