"""`idflow tasks backup`, `backups` and `restore`."""
from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer
from rich.markup import escape

from idflow.cli.app import tasks_app
from idflow.cli.state import JSON_OPTION, state
from idflow.errors import EXIT_ERROR, IdflowError


@tasks_app.command("backup")
def backup(ctx: typer.Context, out: Optional[Path] = typer.Option(None, "--out", help="Write here instead."),
           json_: bool = JSON_OPTION) -> None:
    """Snapshot every remote task definition into a backup file."""
    from idflow.backups import write_backup
    from idflow.operations import state_dir

    cli = state(ctx, json_)
    config = cli.config()
    taskdefs = cli.client().list_taskdefs()
    path = write_backup(state_dir(config), "snapshot", taskdefs, server_url=config.api_url, out=out)
    doc = {"backup": str(path), "count": len(taskdefs)}
    cli.emit(doc, lambda c: c.print(f"backed up {len(taskdefs)} definition(s) to {escape(str(path))}"))


@tasks_app.command("backups")
def backups(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """List the backups idflow has written (newest last)."""
    from rich.table import Table

    from idflow.backups import list_backups
    from idflow.operations import state_dir

    cli = state(ctx, json_)
    found = list_backups(state_dir(cli.config()))

    def render(console) -> None:
        table = Table("file", "reason", "created", "definitions", title=f"Backups ({len(found)})", title_justify="left")
        for b in found:
            table.add_row(escape(str(b.path)), b.reason, b.created_at, str(b.count))
        console.print(table)

    cli.emit({"backups": [{"path": str(b.path), "reason": b.reason, "created_at": b.created_at,
                           "server_url": b.server_url, "count": b.count} for b in found]}, render)


def restore_definitions(config, client, path: Path, names: list[str] | None) -> dict:
    """Put backed-up definitions back (backing up what they overwrite first) and verify."""
    from idflow.backups import read_backup, restorable, write_backup
    from idflow.operations import state_dir

    document = read_backup(path)
    chosen = [d for d in document["taskdefs"] if isinstance(d, dict) and (not names or d.get("name") in names)]
    missing = sorted(set(names or []) - {d.get("name") for d in chosen})
    if missing:
        raise IdflowError(f"not in backup {path}: {', '.join(missing)}")
    current = {d["name"]: d for d in client.list_taskdefs()}
    overwritten = [current[d["name"]] for d in chosen if d["name"] in current]
    previous = write_backup(state_dir(config), "restore", overwritten, server_url=config.api_url) if overwritten else None
    bodies = [restorable(d) for d in chosen]
    for start in range(0, len(bodies), config.batch_size):
        client.upsert_taskdefs(bodies[start:start + config.batch_size])
    after = {d["name"]: d for d in client.list_taskdefs()}
    mismatched = [b["name"] for b in bodies if restorable(after.get(b["name"], {})) != b]
    return {"restored": [b["name"] for b in bodies if b["name"] not in mismatched], "failed": mismatched,
            "backup": str(previous) if previous else None}


@tasks_app.command("restore")
def restore(ctx: typer.Context, file: Path = typer.Argument(..., help="A backup file."),
            names: Optional[List[str]] = typer.Argument(None, help="Only these definitions."),
            json_: bool = JSON_OPTION) -> None:
    """Restore definitions from a backup file, exactly as they were."""
    cli = state(ctx, json_)
    doc = restore_definitions(cli.config(), cli.client(), file, names)

    def render(console) -> None:
        console.print(f"[green]restored {len(doc['restored'])}:[/] {escape(', '.join(doc['restored']))}")
        if doc["failed"]:
            console.print(f"[red]not restored exactly: {escape(', '.join(doc['failed']))}[/]")
        if doc["backup"]:
            console.print(f"[dim]copies they replaced backed up to {escape(doc['backup'])}[/]")

    cli.emit(doc, render)
    if doc["failed"]:
        raise typer.Exit(EXIT_ERROR)
