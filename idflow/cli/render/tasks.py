"""Task definitions in the terminal: listings, plans field by field, and what an upload did.

Every name, path and value passes through `safe`/`json_value` (idflow.cli.render.text) or
a `Text` cell (idflow.cli.render.table): they come from files and from the server.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from idflow.cli.render.table import Column, cell, show_table
from idflow.cli.render.text import MAX_NAMES_LISTED, json_value, name_list, natural, natural_key, safe
from idflow.cli.render.writes import render_problems
from idflow.taskdefs.plan import (CONFLICT, CREATE, EDITED, FOREIGN, ORPHANED, REMOTE_ONLY, UNCERTAIN, UNCHANGED,
                                  UPDATE, Plan, PlanItem)
from idflow.provenance.trailer import parse_provenance

if TYPE_CHECKING:  # rich is loaded when it prints: output that is not a terminal may never need it
    from rich.console import Console

STATUS = {UNCHANGED: ("in sync", "green"), UPDATE: ("changed", "yellow"), CREATE: ("to upload", "cyan"),
          EDITED: ("edited on the server", "bold red"), CONFLICT: ("conflict", "bold red"),
          ORPHANED: ("orphaned", "magenta"), UNCERTAIN: ("uncertain: kept", "yellow"), FOREIGN: ("foreign", "dim")}
EDITS_WHY = ("edited on the server since idflow uploaded it; an upload refuses to revert it without "
             "--overwrite-server-edits")
ORPHANS_WHY = ("uploaded by this project, task file gone: 'idflow tasks purge --orphaned' deletes "
               "what no workflow uses")


def _items(plan: Plan, *actions: str) -> list[PlanItem]:
    return sorted(plan.of(*actions), key=lambda i: natural_key(i.name))


def _uses(usage: dict[str, int] | None, name: str) -> str:
    if usage is None:
        return ""
    return str(usage.get(name, 0) or "-")


# ---- tasks list --sync ------------------------------------------------------------------------
def render_sync(console: Console, plan: Plan, verbose: bool = False, *, wide: bool = False,
                usage: dict[str, int] | None = None) -> None:
    columns = [Column("task", essential=True), Column("status", essential=True), Column("on server from")]
    if verbose:  # the identity a stamp names: what `tasks adopt --from` takes
        columns.append(Column("stamped by project"))
    if wide:
        columns += [Column("local source"), Column("uses", justify="right")]
    rows = []
    changed = (UPDATE, EDITED, CONFLICT)
    for item in sorted(plan.items, key=lambda i: natural_key(i.name)):
        action = item.action
        label, colour = STATUS[action]
        if item.owner:
            label = f"{label} (project {item.owner})"
        if action in changed:
            label += f" ({len(item.changes)} field{'s' if len(item.changes) != 1 else ''})"
        if action in REMOTE_ONLY:
            remote = item.provenance.short if item.provenance else ""
        elif item.actual is not None:
            seen = parse_provenance(item.actual.get("description"))
            remote = seen.short if seen else "not stamped"
        else:
            remote = ""
        row = [(str(item.name), "bold"), (label, colour), (remote, "dim")]
        if verbose:
            stamp = (item.provenance if item.action in (ORPHANED, FOREIGN)
                     else parse_provenance(item.actual.get("description")) if item.actual is not None else None)
            row.append(cell(stamp.project or "" if stamp else "", "dim"))
        if wide:
            row += [cell(item.source or "", "dim"), cell(_uses(usage, item.name) if item.actual else "")]
        rows.append(row)
    if rows:
        show_table(console, "Task definitions: local vs server", columns, rows)
    if verbose:
        for item in _items(plan, UPDATE, EDITED, CONFLICT):
            console.print(f"[yellow]~ {safe(item.name)}[/]")
            _print_changes(console, item)
    _print_doubts(console, plan)
    counts = plan.counts()
    summary = plan.summary()
    edits = "".join(f" · [bold red]{label} {counts[action]}[/]" for action, label in
                    ((EDITED, "edited on the server"), (CONFLICT, "conflict")) if counts[action])
    console.print(f"local {len(summary['local'])} · server {len(summary['remote'])} · "
                  f"[green]in sync {counts[UNCHANGED]}[/] · [yellow]changed {counts[UPDATE]}[/]{edits} · "
                  f"[cyan]to upload {counts[CREATE]}[/] · [magenta]orphaned {counts[ORPHANED]}[/] · "
                  + (f"[yellow]uncertain {counts[UNCERTAIN]}[/] · " if counts[UNCERTAIN] else "")
                  + f"[dim]foreign {counts[FOREIGN]}[/]")
    if plan.has_drift or counts[ORPHANED]:
        console.print("[dim]run 'idflow tasks diff' to see field changes, 'idflow tasks upload --all' to apply[/]")


# ---- tasks list --remote ----------------------------------------------------------------------
def render_remote(console: Console, taskdefs: list[dict[str, Any]], verbose: bool = False, *, wide: bool = False,
                  usage: dict[str, int] | None = None, uncertain: int = 0) -> None:
    """The server's definitions; `wide` (or -v) adds the rest of the fields and where each came from."""
    wide = wide or verbose
    columns = [Column("name", essential=True), Column("retries", "right"), Column("timeout", "right")]
    if wide:
        columns += [Column("response", "right"), Column("policy"), Column("retry logic"), Column("rate limit"),
                    Column("concurrency", "right")]
    else:
        columns += [Column("policy")]
    if usage is not None:
        columns.append(Column("uses", "right"))
    columns.append(Column("from" if wide else "managed"))
    rows = []
    for d in sorted(taskdefs, key=lambda d: natural_key(d.get("name"))):
        name = str(d.get("name"))
        prov = parse_provenance(d.get("description"))
        row = [cell(name, "bold"), cell(d.get("retryCount", "")), cell(d.get("timeoutSeconds", ""))]
        if wide:
            per, freq = d.get("rateLimitPerFrequency") or 0, d.get("rateLimitFrequencyInSeconds") or 1
            row += [cell(d.get("responseTimeoutSeconds", "")), cell(d.get("timeoutPolicy", "")),
                    cell(d.get("retryLogic", "")), cell(f"{per}/{freq}s" if per else "-"),
                    cell(d.get("concurrentExecLimit") or "-")]
        else:
            row.append(cell(d.get("timeoutPolicy", "")))
        if usage is not None:
            row.append(cell(_uses(usage, name)))
        if wide:
            row.append(cell(f"{prov.short} {prov.path}", "") if prov else cell("not uploaded by idflow", "dim"))
        else:
            row.append(cell("idflow", "green") if prov else cell("-", "dim"))
        rows.append(row)
    show_table(console, f"Task definitions on the server ({len(taskdefs)})", columns, rows)
    if usage is not None and uncertain:
        console.print(f"[yellow]{uncertain} workflow task(s) choose what they run at run time[/]: a definition "
                      "shown as unused may still be used ('idflow tasks show NAME' says where)")


# ---- tasks diff -------------------------------------------------------------------------------
def _print_changes(console: Console, item: PlanItem) -> None:
    for change in item.changes:
        console.print(f"    {safe(change.field)}: [red]{json_value(change.old)}[/] -> "
                      f"[green]{json_value(change.new)}[/]")


def _print_new(console: Console, item: PlanItem) -> None:
    console.print(f"[bold green]+ {safe(item.name)}[/] [dim](new, {safe(item.source or '')})[/]")
    for key, value in (item.desired or {}).items():
        if key != "name":
            console.print(f"[green]    {safe(key)}: {json_value(value)}[/]")


def render_diff(console: Console, plan: Plan, verbose: bool = False) -> None:
    """Like terraform's plan: a new definition with all its fields, a changed one field by field
    (values as JSON), then what is only on the server: orphans one by one, foreign ones counted."""
    for item in _items(plan, CREATE):
        _print_new(console, item)
    for item in _items(plan, UPDATE):
        console.print(f"[bold yellow]~ {safe(item.name)}[/] [dim]({safe(item.source or '')})[/]")
        _print_changes(console, item)
    for item in _items(plan, EDITED, CONFLICT):
        what = EDITS_WHY if item.action == EDITED else "changed on the server and in the code: a conflict"
        console.print(f"[bold red]! {safe(item.name)}[/] [dim]({safe(item.source or '')}; {what})[/]")
        console.print("[dim]    server -> code[/]")
        _print_changes(console, item)
    for item in _items(plan, ORPHANED):
        console.print(f"[magenta]- {safe(item.name)}[/] [dim](orphaned: {ORPHANS_WHY})[/]")
    _print_doubts(console, plan)
    foreign = plan.names(FOREIGN)
    if foreign and (verbose or len(foreign) <= MAX_NAMES_LISTED):
        for item in _items(plan, FOREIGN):
            whose = f"uploaded by idflow project {item.owner}" if item.owner else "not uploaded by this project"
            console.print(f"[dim]  {safe(item.name)} (foreign: {safe(whose)}; never touched)[/]")
    if verbose:
        for item in _items(plan, UNCHANGED):
            console.print(f"[dim]= {safe(item.name)} (in sync)[/]")
    counts = plan.counts()
    edits = "".join(f"[bold red]{counts[action]} {label}[/], " for action, label in
                    ((EDITED, "edited on the server"), (CONFLICT, "in conflict")) if counts[action])
    console.print(f"\nPlan: [green]{counts[CREATE]} to create[/], [yellow]{counts[UPDATE]} to update[/], {edits}"
                  f"{counts[UNCHANGED]} unchanged, [magenta]{counts[ORPHANED]} orphaned[/], "
                  + (f"[yellow]{counts[UNCERTAIN]} uncertain (kept)[/], " if counts[UNCERTAIN] else "")
                  + f"[dim]{counts[FOREIGN]} foreign[/]"
                  + (" (-v lists them)" if len(foreign) > MAX_NAMES_LISTED and not verbose else ""))
    if counts[ORPHANED]:
        console.print(f"[magenta]Drift: {counts[ORPHANED]} orphaned definition(s) on the server[/] "
                      f"({ORPHANS_WHY}).")
    if not plan.has_drift:
        console.print("[green]Nothing to upload.[/]" if counts[ORPHANED] else "[green]In sync: nothing to upload.[/]")


def _print_doubts(console: Console, plan: Plan) -> None:
    for item in _items(plan, UNCERTAIN):
        console.print(f"[yellow]? {safe(item.name)}[/] [dim](uncertain, kept: {safe(item.reason)})[/]")


# ---- tasks upload -----------------------------------------------------------------------------
def render_upload_preview(err: Console, plan: Plan) -> None:
    """Before an upload writes: what it is about to do, in the diff's form (counted at scale)."""
    writes = _items(plan, CREATE, UPDATE)
    if not writes:
        return
    if len(writes) > MAX_NAMES_LISTED:
        err.print(f"about to write {len(writes)} definition(s): [green]{len(plan.of(CREATE))} to create[/], "
                  f"[yellow]{len(plan.of(UPDATE))} to update[/] ('idflow tasks diff' shows each field)")
        return
    err.print("about to write:")
    for item in writes:
        if item.action == CREATE:
            _print_new(err, item)
        else:
            err.print(f"[bold yellow]~ {safe(item.name)}[/] [dim]({safe(item.source or '')})[/]")
            _print_changes(err, item)


def _changes_by_name(doc: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    items = (doc.get("plan") or {}).get("items") or []
    return {i["name"]: i.get("changes") or [] for i in items if isinstance(i, dict) and "name" in i}


def _change_text(changes: Iterable[dict[str, Any]]) -> str:
    return ", ".join(f"{safe(c['field'])} {json_value(c.get('old'))} -> {json_value(c.get('new'))}"
                     for c in changes)


def render_apply(console: Console, doc: dict[str, Any], changes: dict[str, list[dict[str, Any]]] | None = None) -> None:
    """What an upload did, one line per definition like `kubectl apply`; unchanged ones counted.
    Beyond MAX_NAMES_LISTED lines: counts per outcome (every name is in --json). The field changes
    come from `changes` (by name) or, without it, from the document's plan."""
    changes = _changes_by_name(doc) if changes is None else changes
    groups = [("created", "green", "created"), ("updated", "yellow", "updated"),
              ("would_create", "green", "would create"), ("would_update", "yellow", "would update")]
    lines = sum(len(doc.get(key) or []) for key, _c, _l in groups)
    if lines > MAX_NAMES_LISTED:
        counted = [f"[{colour}]{label} {len(doc[key])}[/]" for key, colour, label in groups if doc.get(key)]
        console.print(", ".join(counted) + " [dim](too many to list: --json lists each)[/]")
    else:
        for key, colour, label in groups:
            for name in natural(doc.get(key) or []):
                detail = _change_text(changes.get(name, ())) if "update" in key else ""
                console.print(f"[{colour}]{label}[/] {safe(name)}" + (f": {detail}" if detail else ""))
    if doc.get("unchanged"):
        console.print(f"[dim]unchanged {len(doc['unchanged'])}[/]")
    render_problems(console, doc)
    if doc.get("dry_run"):
        console.print("[dim]dry run: nothing was written[/]")
    elif not (doc.get("created") or doc.get("updated") or doc.get("failed") or doc.get("unknown")
              or doc.get("not_attempted")):
        console.print("[green]In sync: nothing to upload.[/]")


def render_provenance_warnings(err: Console, planned: Any) -> None:
    """On stderr, with --json too: an upload whose provenance will not name a clean commit."""
    for name in natural(planned.dirty):
        err.print(f"[yellow]warning:[/] {safe(name)} has uncommitted changes; its provenance says +dirty "
                  "(commit first, or use --require-clean in CI)")
    if planned.provenance_missing:
        err.print("[yellow]warning:[/] no Git commit to name (not in a Git repository, or it has no commits yet): "
                  "definitions carry no commit (provenance missing)")


def render_upload(console: Console, outcome: Any, verbose: bool = False) -> None:
    """An UploadOutcome: a dry run shows the plan field by field; a write shows what it did."""
    if outcome.result is None:
        render_diff(console, outcome.plan, verbose)
        console.print("[dim]dry run: nothing was written[/]")
        return
    if verbose:
        render_diff(console, outcome.plan, verbose)
    changes = {i.name: [{"field": c.field, "old": c.old, "new": c.new} for c in i.changes]
               for i in outcome.plan.items if i.changes}
    render_apply(console, outcome.to_json(with_plan=False), changes)


def render_issues(console: Console, issues: Any) -> None:
    """File problems with path:line, errors red and warnings yellow."""
    for issue in issues:
        severity = getattr(issue, "severity", "error")
        colour = "red" if severity == "error" else "yellow"
        console.print(f"[{colour}]{safe(severity)}[/] {safe(issue.path)}:{safe(issue.line)}: {safe(issue.message)}")
