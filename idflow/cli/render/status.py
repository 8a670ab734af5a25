"""`tasks status`: the table, the search note said once, and the summary; `--watch` redraws the same."""
from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.text import Text

from idflow.cli.render.table import Column, cell, hidden_note, make_table, show_table
from idflow.monitoring.format import HEADERS, cells, window
from idflow.monitoring.report import FAILING, UNDEFINED, UNSERVED

COLUMNS = [Column(h, justify="left" if h in ("task", "definition", "used", "workers", "attention") else "right",
                  essential=h in ("task", "attention")) for h in HEADERS]
STYLE = {UNSERVED: "bold red", FAILING: "red", UNDEFINED: "yellow"}


def _rows(report: Any) -> list[list[tuple[str, str]]]:
    rows = []
    for task in report.tasks:
        style = next((STYLE[k] for k in (UNSERVED, FAILING, UNDEFINED) if k in task.attention), "")
        texts = cells(task)
        rows.append([cell(t, style if i in (0, len(texts) - 1) else "") for i, t in enumerate(texts)])
    return rows


def _title(report: Any) -> str:
    t = report.thresholds
    return (f"Task status (window {window(t.window_seconds)}, unserved after {window(t.unserved_after_seconds)} "
            f"without a poll, failing above {t.failing_above * 100:g}%)")


def _footer(report: Any) -> list[str]:
    lines = []
    if report.search_note:
        lines.append(f"[yellow]note:[/] {report.search_note}")
    if report.truncated:
        lines.append("[yellow]note:[/] more executions in the window than were read; counts are of the latest ones")
    colour = "red" if report.needs_attention() else "green"
    lines.append(f"[{colour}]{report.summary()}[/]")
    return lines


def render_status(console: Console, report: Any) -> None:
    if not report.tasks:
        console.print("no task types: no task files, no definitions on the server, nothing polled or queued")
        return
    show_table(console, _title(report), COLUMNS, _rows(report))
    for line in _footer(report):
        console.print(line)


def status_view(console: Console, report: Any, refreshed: str) -> Group:
    """What `--watch` shows: the same table and lines, as one renderable for rich Live."""
    table, hidden = make_table(console.width, _title(report), COLUMNS, _rows(report))
    parts: list[Any] = [table]
    if hidden:
        parts.append(Text.from_markup(hidden_note(hidden), emoji=False))
    parts += [Text.from_markup(line, emoji=False) for line in _footer(report)]
    parts.append(Text.from_markup(f"[dim]{refreshed}; Ctrl-C stops[/]", emoji=False))
    return Group(*parts)
