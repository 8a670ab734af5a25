"""Event handlers: listings, plans field by field, and the exact account of writes and deletes."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idflow.cli.render.text import json_value, safe
from idflow.cli.render.writes import render_problems

if TYPE_CHECKING:  # rich is loaded when it prints: output that is not a terminal may never need it
    from rich.console import Console

MARKS = {"create": ("green", "+ create"), "update": ("yellow", "~ update"), "same": ("dim", "= same"),
         "remote_only": ("cyan", "? only on the server")}


def render_issues(console: Console, doc: dict[str, Any]) -> None:
    for issue in doc.get("errors", []):
        console.print(f"[red]error[/] {safe(_where(issue))}: {safe(issue['message'])}")
    for issue in doc.get("warnings", []):
        console.print(f"[yellow]warning[/] {safe(_where(issue))}: {safe(issue['message'])}")


def _where(issue: dict[str, Any]) -> str:
    return f"{issue['path']}:{issue['line']}" if issue.get("line") else issue["path"]


def render_listing(console: Console, doc: dict[str, Any]) -> None:
    if doc["view"] == "sync":
        render_plan(console, doc)
        return
    for row in doc["handlers"]:
        state = "active" if row["active"] else "inactive"
        source = f" [dim]{safe(row['source'])}[/]" if row.get("source") else ""
        console.print(f"[bold]{safe(row['name'])}[/] on {safe(str(row['event']))} ({state}){source}")
    console.print(f"{len(doc['handlers'])} {doc['view']} event handler(s)")
    render_issues(console, doc)


def render_plan(console: Console, doc: dict[str, Any], *, verbose: bool = False) -> None:
    for item in doc["handlers"]:
        colour, label = MARKS[item["action"]]
        if item["action"] == "same" and not verbose:
            continue
        source = f" [dim]{safe(item['source'])}[/]" if item.get("source") else ""
        console.print(f"[{colour}]{label} {safe(item['name'])}[/]{source}")
        for change in item["changes"]:
            console.print(f"    {safe(change['path'])}: [red]{json_value(change['old'])}[/] -> "
                          f"[green]{json_value(change['new'])}[/]")
    counts = doc["counts"]
    console.print(f"{counts['create']} to create, {counts['update']} to update, {counts['same']} in sync, "
                  f"{counts['remote_only']} only on the server")
    render_issues(console, doc)


def render_upload(console: Console, doc: dict[str, Any]) -> None:
    render_plan(console, doc["plan"])
    for action in ("created", "updated"):
        if doc[action]:
            console.print(f"[green]{action} and verified {len(doc[action])}:[/] {safe(', '.join(doc[action]))}")
    render_problems(console, doc, failed_word="not written", backup_note="replaced handlers backed up to")
    if doc["would_write"]:
        console.print(f"[dim]dry run: would write {len(doc['would_write'])}; nothing was written[/]")
    elif not (doc["created"] or doc["updated"] or doc["failed"] or doc["unknown"]):
        console.print("[green]Nothing to upload: the server is in sync.[/]")


def render_purge_plan(console: Console, plan: Any) -> None:
    for d in plan.deletions:
        console.print(f"[red]- delete {safe(d.name)}[/] [dim]({safe(d.reason)}; event {safe(str(d.server_copy.get('event')))})[/]")
        if d.note:
            console.print(f"  [yellow]note:[/] {safe(d.note)}")
    for s in plan.skipped:
        console.print(f"[green]= keep {safe(s.name)}[/] [dim]({safe(s.reason)})[/]")
    if not plan.deletions:
        console.print("[green]Nothing to delete.[/]")
