"""`tasks show NAME`: one definition, local and server side by side, where it came from, who uses it."""
from __future__ import annotations

from typing import Any

from rich.console import Console

from idflow.cli.render.text import json_value, natural_key, safe

STATUS = {"create": ("only local: 'idflow tasks upload NAME' creates it", "cyan"),
          "update": ("changed: the server differs from the task file", "yellow"),
          "unchanged": ("in sync", "green"),
          "edited_on_server": ("edited on the server since idflow uploaded it (the task file is unchanged): "
                               "an upload refuses to revert it without --overwrite-server-edits", "bold red"),
          "conflict": ("conflict: changed on the server and in the task file since idflow uploaded it", "bold red"),
          "orphaned": ("orphaned: uploaded by this project, task file gone", "magenta"),
          "uncertain": ("uncertain: stamped by this project, task file gone here, but kept", "yellow"),
          "foreign": ("foreign: only on the server, not uploaded by this project", "dim")}
MAX_USES_SHOWN = 30


def _fields(console: Console, title: str, definition: dict[str, Any] | None, missing: str) -> None:
    console.print(f"[bold]{title}[/]")
    if definition is None:
        console.print(f"  [dim]{missing}[/]")
        return
    for key in sorted(definition, key=natural_key):
        if key != "name":
            console.print(f"  {safe(key)}: {json_value(definition[key])}")


def render_show(console: Console, view: Any) -> None:
    label, colour = STATUS.get(view.status, (view.status, ""))
    console.print(f"[bold]{safe(view.name)}[/]: [{colour}]{safe(label)}[/]" if colour else
                  f"[bold]{safe(view.name)}[/]: {safe(label)}")
    if view.reason:
        console.print(f"  [yellow]kept:[/] {safe(view.reason)}")
    if view.owner:
        console.print(f"  [dim]uploaded by idflow project {safe(view.owner)}: not this project's[/]")
    _fields(console, "local" + (f" ({safe(view.source)})" if view.source else ""), view.local, "no task file")
    for problem in view.problems:
        console.print(f"  [red]invalid:[/] {safe(problem)}")
    owned = set(view.local or ()) | {c["field"] for c in view.changes}
    server = {k: v for k, v in (view.server or {}).items() if k in owned} if view.local else view.server
    _fields(console, "server" + (" (the fields idflow owns)" if view.local and view.server else ""),
            server, "not on the server")
    if view.changes:
        console.print("[bold]difference[/] (server -> local)")
        for change in view.changes:
            console.print(f"  {safe(change['field'])}: [red]{json_value(change['old'])}[/] -> "
                          f"[green]{json_value(change['new'])}[/]")
    prov = view.provenance
    if prov:
        commit = (prov.get("sha") or "no-git")[:10] + ("+dirty" if prov.get("dirty") else "")
        console.print(f"[bold]provenance[/]: commit {safe(commit)}, {safe(prov.get('path'))}, uploaded "
                      f"{safe(prov.get('at'))}" + (f" by project {safe(prov['project'])}" if prov.get("project") else ""))
    elif view.server is not None:
        console.print("[bold]provenance[/]: [dim]none (not uploaded by idflow)[/]")
    _render_usage(console, view.usage)


def _render_usage(console: Console, usage: Any) -> None:
    uses = usage.uses
    if uses:
        console.print(f"[bold]used by[/] {len(uses)} workflow task(s):")
        for use in uses[:MAX_USES_SHOWN]:
            where = (f"{use['workflow']} v{use['version']}" if use["source"] == "server"
                     else f"{use['workflow']} (local file {use['source']})")
            console.print(f"  {safe(where)} {safe(use['where'])}")
        if len(uses) > MAX_USES_SHOWN:
            console.print(f"  ... and {len(uses) - MAX_USES_SHOWN} more (--json lists them all)")
    elif usage.uncertain:
        console.print(f"[bold]used by[/] [yellow]no workflow by name, but {len(usage.uncertain)} workflow task(s) "
                      "choose what they run at run time[/]:")
        for choice in usage.uncertain[:5]:
            console.print(f"  {safe(choice)}")
    else:
        console.print("[bold]used by[/] no workflow")
    for problem in usage.unreadable[:5]:
        console.print(f"  [yellow]unreadable workflow file:[/] {safe(problem)}")
