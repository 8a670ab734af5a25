"""Tables of foreign text: rich draws the frame, every row is written as a line of text.

rich lays a Table out cell by cell (measure, wrap, pad): about 1.5 ms a row, so 0.3 s of a
listing of 200 and minutes at 50,000. When the rows fit the terminal at their natural widths,
`draw_rows` asks rich only for the frame (title, borders, header, at the widths the rows need)
and writes each row between those lines itself: the same characters rich would print, in one
write. A table that does not fit is laid out by rich (it wraps and shrinks columns) up to
`FAST_ROWS` rows; beyond that it is written as plain aligned lines.
Every cell is a (text, style) pair, never markup, so a name holding `[green]` is shown as it
is; `plain` keeps terminal control characters out.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from idflow.cli.render.plain_table import SIMPLE_HEAVY, justified, write_table
from idflow.cli.render.text import plain

if TYPE_CHECKING:  # rich is loaded when it draws: output that is not a terminal is written without it
    from rich.console import Console
    from rich.table import Table

FAST_ROWS = 500

Cell = tuple[str, str]          # (text, rich style); the text is raw and made safe here


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, how it is justified, and whether it folds rather than being cut."""
    header: str
    justify: str = "left"
    essential: bool = False     # folds onto more lines rather than being cut short


def cell(value: object, style: str = "") -> Cell:
    return ("" if value is None else str(value), style)


def show_table(console: Console, title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> None:
    layout = _layout(console.width, columns, rows)
    shown = [columns[i] for i in layout.shown]
    if not write_table(console, plain(title), [c.header for c in shown], [c.justify for c in shown], layout.picked,
                       box=SIMPLE_HEAVY, pad_edge=False):
        table = _frame(title, columns, layout)
        if not draw_rows(console, table, layout.picked):
            if len(rows) > FAST_ROWS:
                _plain_table(console, title, columns, [[text for text, _style in row] for row in layout.cells])
                return
            from rich.text import Text

            for row in layout.picked:
                table.add_row(*(Text(text, style=style) for text, style in row))
            console.print(table)
    if layout.hidden:
        console.print(hidden_note(layout.hidden))


def make_table(width: int, title: str, columns: Sequence[Column],
               rows: Sequence[Sequence[Cell]]) -> tuple[Table, list[str]]:
    """The rich Table of the columns that fit in `width`, and the headers left out (for a live view)."""
    from rich.text import Text

    layout = _layout(width, columns, rows)
    table = _frame(title, columns, layout)
    for row in layout.picked:
        table.add_row(*(Text(text, style=style) for text, style in row))
    return table, layout.hidden


def hidden_note(hidden: Sequence[str]) -> str:
    return (f"[dim]{len(hidden)} column(s) left out at this width ({', '.join(hidden)}): "
            "a wider terminal, or --json[/]")


@dataclass(frozen=True)
class Layout:
    """A table's cells made plain, and which of its columns fit the terminal's width."""
    cells: list[list[Cell]]       # every cell, made plain
    picked: list[list[Cell]]      # the cells of the columns that fit
    shown: list[int]              # the indexes of those columns
    hidden: list[str]             # the headers left out
    widths: list[int]             # each column's natural width


def _layout(width: int, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> Layout:
    """Every cell made plain, and which columns fit in `width`."""
    every = "".join([text for row in rows for text, _style in row])
    if every.isascii() and every.isprintable():  # nothing to make plain: the common case, checked at once
        cells = [list(row) for row in rows]
    else:
        cells = [[(text if text.isascii() and text.isprintable() else plain(text), style) for text, style in row]
                 for row in rows]
    widths = [max(len(c.header), w) for c, w in zip(columns, _column_widths(cells, len(columns)))]
    shown = _fitting(columns, widths, width)
    picked = cells if len(shown) == len(columns) else [[row[i] for i in shown] for row in cells]
    return Layout(cells, picked, shown, [columns[i].header for i in range(len(columns)) if i not in shown], widths)


def _frame(title: str, columns: Sequence[Column], layout: Layout) -> Table:
    """The rich Table of the shown columns, no rows yet."""
    from rich.box import SIMPLE_HEAVY   # rich.table (fractions, decimal) only when rich draws a table: an
    from rich.table import Table        # upload prints none (a seam in tests/test_architecture.py)

    table = Table(title=plain(title), box=SIMPLE_HEAVY, title_justify="left", pad_edge=False)
    for index in layout.shown:
        column = columns[index]
        table.add_column(column.header, justify=column.justify, no_wrap=not column.essential,  # type: ignore[arg-type]
                         overflow="fold" if column.essential else "ellipsis",
                         min_width=layout.widths[index] if column.essential else None)
    return table


def draw_rows(console: Console, table: Table, rows: Sequence[Sequence[Cell]]) -> bool:
    """Print `table` (columns set, no rows) with `rows` as rich prints them, rich drawing only the frame.

    Each cell is (text, style), its text already made `plain`. False, with nothing printed, when
    rich would have to lay the rows out: they do not fit the console at their natural widths, or
    the table uses something this does not draw (edge off, lines between rows, row or column styles)."""
    from rich.padding import Padding   # loaded with rich.table, which made `table`
    from rich.text import Text

    top, right, bottom, left = Padding.unpack(table.padding)
    if console.record:  # a recording console (an export) keeps only what goes through rich: let rich draw it
        return False
    if (table.rows or table.box is None or not table.show_edge or not table.show_header or table.show_lines
            or table.show_footer or table.row_styles or table.style not in ("", "none") or table.border_style or table.expand
            or table.width or table.collapse_padding or top or bottom or table.leading
            or any(c.style or c.max_width or c.ratio or c.vertical != "top" for c in table.columns)):
        return False
    count = len(table.columns)
    widths = [max(_width(Text.from_markup(c.header, emoji=False).plain if isinstance(c.header, str) else str(c.header)),
                  c.min_width or 0) for c in table.columns]
    for index, width in enumerate(_column_widths(rows, count)):
        widths[index] = max(widths[index], width)
    lefts = [left if index or table.pad_edge else 0 for index in range(count)]
    rights = [right if index < count - 1 or table.pad_edge else 0 for index in range(count)]
    if sum(widths) + sum(lefts) + sum(rights) + count + 1 > console.width:
        return False
    for column, width in zip(table.columns, widths):
        column.min_width = width
    with console.capture() as frame:  # title, top, header and the line under it; the bottom: at these widths
        console.print(table)
    lines = frame.get().split("\n")[:-1]
    styles: dict[str, tuple[str, str]] = {}
    line_box = table.box
    justify = [c.justify for c in table.columns]
    out = lines[:-1]
    before = [line_box.mid_left + " " * lefts[0]] + [" " * rights[i - 1] + line_box.mid_vertical + " " * lefts[i]
                                                     for i in range(1, count)]
    after = " " * rights[-1] + line_box.mid_right
    # Column by column (a list comprehension each), then the lines: the same characters as cell by cell.
    columns: list[list[str]] = []
    for index in range(count):
        width, how = widths[index], justify[index]
        texts = [row[index][0] for row in rows]
        if how == "left" and "".join(texts).isascii():
            texts = [text.ljust(width) for text in texts]
        else:
            texts = [justified(text, width, how, _width) for text in texts]
        if any(row[index][1] for row in rows):  # as rich does: the style covers the cell's width, its padding not
            for style in {row[index][1] for row in rows} - styles.keys():
                styles[style] = _codes(console, style) if style else ("", "")
            texts = [f"{styles[row[index][1]][0]}{text}{styles[row[index][1]][1]}" for row, text in zip(rows, texts)]
        columns.append([before[index] + text for text in texts] if before[index] else texts)
    out += ["".join(parts) + after for parts in zip(*columns)] if columns else []
    out.append(lines[-1])
    console.file.write("\n".join(out) + "\n")
    console.file.flush()
    return True


def _width(text: str) -> int:
    if text.isascii():
        return len(text)
    from rich.cells import cell_len   # loaded with rich.table: only rich's own drawing measures other text

    return cell_len(text)


def _column_widths(rows: Sequence[Sequence[Cell]], count: int) -> list[int]:
    """The widest text of each column, in terminal cells."""
    widths = [0] * count
    for index in range(count):
        texts = [row[index][0] for row in rows]
        if texts:
            widest = max(map(len, texts))
            widths[index] = widest if "".join(texts).isascii() else max(map(_width, texts))
    return widths


def _codes(console: Console, style: str) -> tuple[str, str]:
    """The escape codes around a text in `style` on this console ("", "" without colour)."""
    from rich.text import Text

    with console.capture() as sample:
        console.print(Text("\0", style=style), end="")
    start, _nul, end = sample.get().partition("\0")
    return start, end


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


def _plain_table(console: Console, title: str, columns: Sequence[Column], texts: Sequence[Sequence[str]]) -> None:
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
