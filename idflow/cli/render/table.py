"""Tables of foreign text: a rich Table for a screenful, plain aligned lines for thousands of rows.

rich lays a Table out cell by cell (measure, wrap, pad); at 50,000 rows that took minutes.
Beyond `FAST_ROWS` rows the same columns are written as plain aligned text in one write,
which is what anyone piping a long listing into grep wants anyway.
Every cell is a `Text` (or plain text in the fast path), never markup, so a name holding
`[green]` is shown as it is; `plain` keeps terminal control characters out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from idflow.cli.render.text import plain

FAST_ROWS = 500

Cell = tuple[str, str]          # (text, rich style); the text is raw and made safe here


@dataclass(frozen=True)
class Column:
    header: str
    justify: str = "left"
    essential: bool = False     # folds onto more lines rather than being cut short


def cell(value: object, style: str = "") -> Cell:
    return ("" if value is None else str(value), style)


def show_table(console: Console, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> None:
    if len(rows) > FAST_ROWS:
        _plain_table(console, title, columns, rows)
        return
    table, hidden = make_table(console.width, title, columns, rows)
    console.print(table)
    if hidden:
        console.print(hidden_note(hidden))


def make_table(width: int, title: str, columns: Sequence[Column],
               rows: Sequence[Sequence[Cell]]) -> tuple[Table, list[str]]:
    """The rich Table of the columns that fit in `width`, and the headers left out (for a live view)."""
    cells = [[Text(plain(text), style=style) for text, style in row] for row in rows]
    widths = [max([len(c.header)] + [r[i].cell_len for r in cells]) for i, c in enumerate(columns)]
    shown = _fitting(columns, widths, width)
    table = Table(title=plain(title), box=box.SIMPLE_HEAVY, title_justify="left", pad_edge=False)
    for index in shown:
        column = columns[index]
        table.add_column(column.header, justify=column.justify, no_wrap=not column.essential,  # type: ignore[arg-type]
                         overflow="fold" if column.essential else "ellipsis",
                         min_width=widths[index] if column.essential else None)
    for row in cells:
        table.add_row(*(row[i] for i in shown))
    return table, [columns[i].header for i in range(len(columns)) if i not in shown]


def hidden_note(hidden: Sequence[str]) -> str:
    return (f"[dim]{len(hidden)} column(s) left out at this width ({', '.join(hidden)}): "
            "a wider terminal, or --json[/]")


def _fitting(columns: Sequence[Column], widths: list[int], available: int) -> list[int]:
    """The columns that fit in `available` cells: the rightmost optional ones go first, so an
    essential column (a name, a status) is never cut to make room for a detail."""
    shown = list(range(len(columns)))

    def needed() -> int:
        return sum(widths[i] for i in shown) + 3 * (len(shown) - 1) + 2  # padding, separator, edges

    for index in reversed(range(len(columns))):
        if needed() <= available:
            break
        if not columns[index].essential:
            shown.remove(index)
    return shown


def _plain_table(console: Console, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> None:
    texts = [[plain(text) for text, _style in row] for row in rows]
    widths = [len(c.header) for c in columns]
    for row in texts:
        for index, text in enumerate(row):
            if len(text) > widths[index]:
                widths[index] = len(text)

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if c.justify == "right" else v.ljust(w)
                         for v, w, c in zip(values, widths, columns)).rstrip()

    lines = [plain(title), line([c.header for c in columns])]
    lines += [line(row) for row in texts]
    console.file.write("\n".join(lines) + "\n")
    console.file.flush()
