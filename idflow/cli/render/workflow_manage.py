"""Workflow diff (with three-way states), purge plans and results, history and rollback."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from idflow.cli.render.text import safe
from idflow.cli.render.writes import render_problems

if TYPE_CHECKING:  # rich is loaded when it prints: output that is not a terminal may never need it
    from rich.console import Console

STATE_STYLE = {"in_sync": "green", "code_changed": "yellow", "server_changed": "magenta", "conflict": "bold red",
               "not_ours": "dim", "uncertain": "dim yellow", "local_only": "cyan", "orphaned": "red"}
STATE_WORDS = {"in_sync": "in sync", "code_changed": "code changed", "server_changed": "server changed (edited "
               "outside idflow)", "conflict": "both changed (conflict)", "not_ours": "not ours",
               "uncertain": "uncertain", "local_only": "only local", "orphaned": "ours, file gone"}
MAX_USES_SHOWN = 10


def _value(value: Any) -> str:
    return "(unset)" if value is None else json.dumps(value, default=str)


def render_diff(console: Console, doc: dict[str, Any], verbose: bool = False) -> None:
    for item in doc["items"]:
        state = item["state"]
        if state in ("not_ours",) and not verbose:
            continue
        style = STATE_STYLE.get(state, "")
        where = f" [dim]{safe(item['path'])}[/]" if item.get("path") else ""
        console.print(f"{safe(item['name'])} v{item['version']}: [{style}]{STATE_WORDS.get(state, state)}[/]{where}")
        if item.get("reason") and state not in ("in_sync",):
            console.print(f"    [dim]{safe(item['reason'])}[/]")
        for change in item["changes"]:
            console.print(f"    {safe(change['path'])}: server [red]{safe(_value(change['server']))}[/] -> "
                          f"local [green]{safe(_value(change['local']))}[/]")
    counts = " · ".join(f"{STATE_WORDS.get(k, k)} {v}" for k, v in sorted(doc["counts"].items()))
    console.print(counts or "no workflows")
    for error in doc["errors"]:
        console.print(f"[red]error[/] {safe(error['path'])}:{error['line']}: {safe(error['message'])}")


def render_purge_plan(console: Console, plan: Any) -> None:
    for d in plan.deletions:
        console.print(f"[red]- delete {safe(d.label)}[/] [dim]({safe(d.reason)})[/]")
        if d.forced_uses:
            console.print(f"  [bold red]FORCED: still used by {len(d.forced_uses)} place(s):[/]")
            for use in d.forced_uses[:MAX_USES_SHOWN]:
                console.print(f"    [red]{safe(use)}[/]")
        if d.note:
            console.print(f"  [yellow]note:[/] {safe(d.note)}")
    for s in plan.skipped:
        console.print(f"[green]= keep {safe(s.label)}[/] [dim]({safe(s.reason)})[/]")
        for use in s.used_by[:MAX_USES_SHOWN]:
            console.print(f"    used by {safe(use)}")
        if len(s.used_by) > MAX_USES_SHOWN:
            console.print(f"    ... and {len(s.used_by) - MAX_USES_SHOWN} more")
    for note in plan.notes:
        console.print(f"[dim]note: {safe(note)}[/]")
    if not plan.deletions:
        console.print("[green]Nothing to delete.[/]")


def render_purge_result(console: Console, doc: dict[str, Any]) -> None:
    deleted = [f"{r['name']} v{r['version']}" for r in doc["deleted"]]
    if deleted:
        console.print(f"[red]deleted {len(deleted)}:[/] {safe(', '.join(deleted))}")
    render_problems(console, doc, failed_word="not deleted", backup_note="deleted workflow versions backed up to",
                    restore_hint="idflow workflows restore FILE")
    if doc["would_delete"]:
        console.print(f"[dim]dry run: would delete {len(doc['would_delete'])}; nothing was deleted[/]")


def render_history(console: Console, doc: dict[str, Any]) -> None:
    console.print(f"[bold]{safe(doc['name'])}[/]")
    for entry in doc["commits"]:
        versions = ", ".join(f"v{v['version']} {v['change']}" for v in entry["versions"])
        console.print(f"[yellow]{entry['sha'][:10]}[/] {safe(entry['date'][:10])} {safe(entry['author'])}: "
                      f"{safe(entry['subject'])} [dim]({safe(versions)})[/]")
    for server in doc["server"]:
        matches = server["matches"][:10] if server["matches"] else "no commit shown"
        console.print(f"server v{server['version']}: {STATE_WORDS.get(server['state'], server['state'])}, "
                      f"holds {safe(matches)}")


def render_rollback(console: Console, doc: dict[str, Any]) -> None:
    verb = "would write" if doc["dry_run"] else "wrote"
    for ref in doc["would_write"] if doc["dry_run"] else doc["created"] + doc["updated"]:
        console.print(f"[yellow]{verb}[/] {safe(ref['name'])} v{ref['version']} as at {doc['to'][:10]}")
    for item in doc["unchanged"]:
        console.print(f"[dim]unchanged {safe(item['name'])} v{item['version']}[/]")
    render_problems(console, doc, failed_word="not written", backup_note="overwritten workflow versions backed up to",
                    restore_hint="idflow workflows restore FILE")
