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
    table = Table(title=plain(title), box=box.SIMPLE_HEAVY, title_justify="left")
    for column in columns:
        table.add_column(column.header, justify=column.justify,  # type: ignore[arg-type]
                         overflow="fold" if column.essential else "ellipsis")
    for row in rows:
        table.add_row(*(Text(plain(text), style=style) for text, style in row))
    console.print(table)


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
