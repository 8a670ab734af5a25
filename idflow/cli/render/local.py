"""Local task files in the terminal: `tasks list --local`."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from idflow.base.sanitize import terminal_safe
from idflow.cli.render.plain_table import write_table

if TYPE_CHECKING:  # rich only when something is printed on a terminal, or must be laid out
    from rich.console import Console


def _seconds(value) -> str:
    return "none" if not value else f"{value}s"


def task_row(task) -> list[str]:
    """One table row of plain text: name, file:line, retries, timeouts, policy/logic, rate limit, concurrency."""
    d = task.task_def
    per, window = d.get("rateLimitPerFrequency") or 0, d.get("rateLimitFrequencyInSeconds")
    return [
        task.name,
        f"{task.path}:{task.line}",
        f"{d.get('retryCount')} (every {_seconds(d.get('retryDelaySeconds'))})",
        f"{_seconds(d.get('timeoutSeconds'))} / {_seconds(d.get('responseTimeoutSeconds'))}",
        f"{d.get('timeoutPolicy')} / {d.get('retryLogic')}",
        "none" if not per else f"{per} per {_seconds(window)}",
        str(d.get("concurrentExecLimit") or "none"),
    ]


def render_local(console: Console, discovery, verbose: bool) -> None:
    """The discovered tasks as a table, then errors (red) and warnings (yellow) with path:line."""
    valid = {id(t) for t in discovery.valid_tasks}
    layered = len({t.layer for t in discovery.tasks}) > 1 or any(t.overrides for t in discovery.tasks)
    title = f"Local tasks ({len(discovery.tasks)})"
    headers = ("Name", "File:line", "Retries", "Timeout / response", "Policy / logic", "Rate limit",
               "Concurrency") + (("Layer", "Overrides") if layered else ())
    rows = []
    for task in discovery.tasks:
        row = [(terminal_safe(c), "") for c in task_row(task) + ([task.layer, ", ".join(task.overrides) or "-"]
                                                                 if layered else [])]
        if id(task) not in valid:
            row[0] = (f"{row[0][0]} (invalid)", "red")
        rows.append(row)
    if not discovery.tasks:
        console.print("[dim]no tasks found[/]")
    elif not write_table(console, title, headers, ["left"] * len(headers), rows):  # no rich where it adds nothing
        _rich_table(console, title, headers, rows)
    if not (verbose or discovery.errors or discovery.warnings):
        return
    from idflow.cli.render.text import safe as escape  # names, paths and messages from files

    if verbose:
        from rich.panel import Panel
        from rich.syntax import Syntax  # pygments: only for the verbose detail

        for task in discovery.tasks:
            detail = {"task_def": task.task_def, "requirements": list(task.requirements), "module": task.module,
                      "form": task.form, "worker_options": task.worker_options}
            console.print(Panel(Syntax(json.dumps(detail, indent=2), "json", background_color="default"),
                                title=escape(f"{task.name}  {task.path}:{task.line}"), title_align="left"))
    for issue in discovery.errors:
        console.print(f"[red]error[/] {escape(_where(issue))}: {escape(issue.message)}")
    for issue in discovery.warnings:
        console.print(f"[yellow]warning[/] {escape(_where(issue))}: {escape(issue.message)}")
    errors, warnings = len(discovery.errors), len(discovery.warnings)
    if errors or warnings:
        console.print(f"{len(valid)} valid of {len(discovery.tasks)} tasks; "
                      f"[red]{errors} error(s)[/], [yellow]{warnings} warning(s)[/]")


def _rich_table(console: Console, title: str, headers: tuple[str, ...], rows: list) -> None:
    from rich.table import Table
    from rich.text import Text

    from idflow.cli.render.table import draw_rows

    table = Table(title=title, title_justify="left")
    for header in headers:
        table.add_column(header, overflow="fold")
    if not draw_rows(console, table, rows):  # too wide for the terminal: rich folds the cells
        for row in rows:
            table.add_row(*(Text(text, style=style) for text, style in row))
        console.print(table)


def _where(issue) -> str:
    return f"{issue.path}:{issue.line}" if issue.line else issue.path
