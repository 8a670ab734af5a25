"""Rich renderings of plans, results and remote definitions."""
from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich import box

from idflow.taskdefs.plan import CREATE, FOREIGN, ORPHANED, UNCHANGED, UPDATE, Plan

STATUS = {UNCHANGED: ("in sync", "green"), UPDATE: ("changed", "yellow"), CREATE: ("to upload", "cyan"),
          ORPHANED: ("orphaned", "magenta"), FOREIGN: ("foreign", "dim")}


def _value(v: Any) -> str:
    return escape(json.dumps(v) if not isinstance(v, str) else repr(v))


def render_sync(console: Console, plan: Plan, verbose: bool = False) -> None:
    counts = plan.counts()
    table = Table(title="Task definitions: local vs server", box=box.SIMPLE_HEAVY, title_justify="left")
    table.add_column("task", style="bold")
    table.add_column("status")
    table.add_column("local source", style="dim")
    table.add_column("on server from", style="dim")
    for item in plan.items:
        label, colour = STATUS[item.action]
        if item.action == UPDATE:
            label += f" ({len(item.changes)} field{'s' if len(item.changes) != 1 else ''})"
        remote = item.provenance.short if item.provenance and item.action in (ORPHANED, FOREIGN) else ""
        if item.actual is not None and item.action not in (ORPHANED, FOREIGN):
            from idflow.provenance.trailer import parse_provenance
            seen = parse_provenance(item.actual.get("description"))
            remote = seen.short if seen else "not stamped"
        table.add_row(escape(item.name), f"[{colour}]{label}[/]", escape(item.source or ""), escape(remote))
        if verbose and item.action == UPDATE:
            for change in item.changes:
                table.add_row("", f"  [dim]{change.field}[/]", f"[red]{_value(change.old)}[/] -> [green]{_value(change.new)}[/]", "")
    if plan.items:
        console.print(table)
    local = len(plan.summary()["local"])
    remote = len(plan.summary()["remote"])
    console.print(f"local {local} · server {remote} · [green]in sync {counts[UNCHANGED]}[/] · "
                  f"[yellow]changed {counts[UPDATE]}[/] · [cyan]to upload {counts[CREATE]}[/] · "
                  f"[magenta]orphaned {counts[ORPHANED]}[/] · [dim]foreign {counts[FOREIGN]}[/]")
    if plan.has_drift:
        console.print("[dim]run 'idflow tasks diff' to see field changes, 'idflow tasks upload --all' to apply[/]")


def render_diff(console: Console, plan: Plan, verbose: bool = False) -> None:
    shown = 0
    for item in plan.items:
        if item.action == CREATE:
            console.print(f"[bold green]+ {escape(item.name)}[/] [dim](new, {escape(item.source or '')})[/]")
            if verbose:
                for key, value in (item.desired or {}).items():
                    console.print(f"[green]    {key}: {_value(value)}[/]")
        elif item.action == UPDATE:
            console.print(f"[bold yellow]~ {escape(item.name)}[/] [dim]({escape(item.source or '')})[/]")
            for change in item.changes:
                console.print(f"    {change.field}: [red]{_value(change.old)}[/] -> [green]{_value(change.new)}[/]")
        elif item.action in (ORPHANED, FOREIGN):
            why = "uploaded by idflow, source gone" if item.action == ORPHANED else "not uploaded by idflow"
            console.print(f"[magenta]- {escape(item.name)}[/] [dim](only on the server: {item.action}, {why})[/]")
        elif verbose:
            console.print(f"[dim]= {escape(item.name)} (in sync)[/]")
            continue
        else:
            continue
        shown += 1
    counts = plan.counts()
    console.print(f"\nPlan: [green]{counts[CREATE]} to create[/], [yellow]{counts[UPDATE]} to update[/], "
                  f"{counts[UNCHANGED]} unchanged, [magenta]{counts[ORPHANED] + counts[FOREIGN]} only on the server[/]")
    if not plan.has_drift:
        console.print("[green]In sync: nothing to upload.[/]")


def render_remote(console: Console, taskdefs: list[dict[str, Any]], verbose: bool = False) -> None:
    from idflow.provenance.trailer import parse_provenance

    table = Table(title=f"Task definitions on the server ({len(taskdefs)})", box=box.SIMPLE_HEAVY, title_justify="left")
    table.add_column("name", style="bold", no_wrap=True)
    for column in ("retries", "timeout", "response", "policy", "retry logic", "rate limit", "concurrency"):
        table.add_column(column, justify="right" if column in ("retries", "timeout", "response", "concurrency") else "left")
    table.add_column("from" if verbose else "managed")
    for d in sorted(taskdefs, key=lambda d: str(d.get("name"))):
        prov = parse_provenance(d.get("description"))
        per, freq = d.get("rateLimitPerFrequency") or 0, d.get("rateLimitFrequencyInSeconds") or 1
        if verbose:
            origin = f"{prov.short} {prov.path}" if prov else "[dim]not uploaded by idflow[/]"
        else:
            origin = "[green]idflow[/]" if prov else "[dim]-[/]"
        table.add_row(escape(str(d.get("name"))), str(d.get("retryCount", "")), str(d.get("timeoutSeconds", "")),
                      str(d.get("responseTimeoutSeconds", "")), str(d.get("timeoutPolicy", "")),
                      str(d.get("retryLogic", "")), f"{per}/{freq}s" if per else "-",
                      str(d.get("concurrentExecLimit") or "-"), escape(origin) if prov else origin)
    console.print(table)


def render_apply(console: Console, doc: dict[str, Any]) -> None:
    for key, colour, label in (("created", "green", "created"), ("updated", "yellow", "updated"),
                               ("would_create", "green", "would create"), ("would_update", "yellow", "would update")):
        names = doc.get(key) or []
        if names:
            console.print(f"[{colour}]{label} {len(names)}:[/] {escape(', '.join(names))}")
    if doc.get("unchanged"):
        console.print(f"[dim]unchanged {len(doc['unchanged'])}[/]")
    for failure in doc.get("failed") or []:
        console.print(f"[red]failed {escape(failure['name'])}:[/] {escape('; '.join(failure['errors']))}")
    if doc.get("not_attempted"):
        console.print(f"[red]not written (stopped after a failure) {len(doc['not_attempted'])}:[/] "
                      f"{escape(', '.join(doc['not_attempted']))}")
    if doc.get("backup"):
        console.print(f"[dim]previous server copies backed up to {escape(doc['backup'])}[/]")
    if doc.get("dry_run"):
        console.print("[dim]dry run: nothing was written[/]")
    elif not (doc.get("created") or doc.get("updated") or doc.get("failed") or doc.get("not_attempted")):
        console.print("[green]In sync: nothing to upload.[/]")


def render_provenance_warnings(err: Console, planned: Any) -> None:
    """On stderr, with --json too: an upload whose provenance will not name a clean commit."""
    for name in planned.dirty:
        err.print(f"[yellow]warning:[/] {escape(name)} has uncommitted changes; its provenance says +dirty "
                  "(commit first, or use --require-clean in CI)")
    if planned.provenance_missing:
        err.print("[yellow]warning:[/] no Git commit to name (not in a Git repository, or it has no commits yet): "
                  "definitions carry no commit (provenance missing)")


def render_upload(console: Console, outcome: Any, verbose: bool = False) -> None:
    """An UploadOutcome: the plan field by field (dry run or -v), then what was written."""
    if outcome.result is None or verbose:
        render_diff(console, outcome.plan, verbose)
    render_apply(console, outcome.to_json())


def render_issues(console: Console, issues: Any) -> None:
    """File problems with path:line, errors red and warnings yellow."""
    for issue in issues:
        severity = getattr(issue, "severity", "error")
        colour = "red" if severity == "error" else "yellow"
        console.print(f"[{colour}]{severity}[/] {escape(issue.path)}:{issue.line}: {escape(issue.message)}")
