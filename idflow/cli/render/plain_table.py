"""Tables written as plain lines, without loading rich, where rich would print no colour at all.

Standard output that is not a terminal (a pipe, a CI log, a file) gets no escape codes from rich, at 200
columns (idflow.cli.state). There a table of plain rows is the same characters rich prints, computed here: about
a quarter of `tasks list --local` is loading rich. `PlainConsole` stands for that rich Console and makes it on
first use for anything else (markup, a table that must wrap). `write_table` answers False, having written
nothing, for what it does not draw exactly as rich: rows or headers that are not printable ASCII, a header or
title holding markup, an empty column, a table wider than the console, a title wider than the table (rich wraps it), an encoding
that is not UTF-8 (rich falls back to ASCII boxes). tests/test_plain_table.py holds it to rich's own output.
"""
from __future__ import annotations

import os
import re
import sys
from typing import Any, Callable, Sequence

WIDTH = 200   # rich's width for output that is not a terminal (idflow.cli.state._console)

# rich.box's rows (top, head, head row, mid, row, foot row, foot, bottom), each left, horizontal, divider, right.
HEAVY_HEAD = ("┏━┳┓", "┃ ┃┃", "┡━╇┩", "│ ││", "├─┼┤", "├─┼┤", "│ ││", "└─┴┘")   # rich.Table's default
SIMPLE_HEAVY = ("    ", "    ", " ━━ ", "    ", "    ", " ━━ ", "    ", "    ")
TOP, HEAD, HEAD_ROW, MID, BOTTOM = 0, 1, 2, 3, 7

Cell = tuple[str, str]    # (text, style): the style colours nothing here

# The styles idflow's own markup uses; a line whose every `[` opens or closes one of them, with no escape, is
# printed by rich as its text without the tags.
STYLES = frozenset({"green", "red", "yellow", "cyan", "magenta", "blue", "dim", "bold", "italic", "bold red",
                    "bold green", "bold yellow", "bold magenta", "dim yellow"})
_TAG = re.compile(r"\[(/?)([a-z ]*)\]")
# Characters beyond ASCII that idflow's own lines use ("local 3 · server 4", "…"), one cell wide each in rich's
# table: a line may hold them and still be written without rich, to a UTF-8 stream.
ONE_CELL = frozenset("·…→—–")


class PlainConsole:
    """Standard output (or error) that is not a terminal, as idflow's rich Console sees it: no colour, WIDTH
    columns. A table of plain rows, or a line of simple markup, is written without rich; anything else goes to
    the rich Console `make_rich` makes, on first use."""

    is_terminal = False
    record = False
    width = WIDTH

    def __init__(self, make_rich: Callable[[], Any], *, stderr: bool = False) -> None:
        self._make_rich = make_rich
        self._rich: Any = None
        self._stderr = stderr

    @property
    def file(self) -> Any:
        return sys.stderr if self._stderr else sys.stdout   # looked up each time, as rich does

    @property
    def rich(self) -> Any:
        if self._rich is None:
            self._rich = self._make_rich()
        return self._rich

    def print(self, *objects: Any, **options: Any) -> None:
        """One line of idflow's simple markup is written as its text; anything else rich prints."""
        text = plain_markup(objects[0]) if len(objects) == 1 and not options and isinstance(objects[0], str) \
            else None
        if text is None or not (text.isascii() or _utf8(self.file)):
            self.rich.print(*objects, **options)
            return
        self.file.write(text + "\n")
        self.file.flush()

    def __getattr__(self, name: str) -> Any:   # capture, status...: rich's own
        return getattr(self.rich, name)


def plain_markup(markup: str) -> str | None:
    """What rich prints, without colour, for a line of markup whose tags are all STYLES, balanced, with no
    escape, in ASCII and ONE_CELL; None where that is not certain (it is then rich's to print)."""
    if "\\" in markup or not markup.replace("\n", "").isprintable():
        return None
    if not markup.isascii() and not ONE_CELL.issuperset(char for char in markup if not char.isascii()):
        return None
    open_styles: list[str] = []
    for closing, style in _TAG.findall(markup):
        if not closing:
            if style not in STYLES:
                return None
            open_styles.append(style)
        elif not open_styles or style not in ("", open_styles[-1]):
            return None
        else:
            open_styles.pop()
    text = _TAG.sub("", markup)
    return text if "[" not in text and all(len(line) <= WIDTH for line in text.split("\n")) else None


def is_plain(stream: Any, environ: Any = None) -> bool:
    """Would rich print to `stream` (sys.stdout, sys.stderr) without any escape code? Its own test
    (rich.console.is_terminal), answered without loading it; an interactive shell (IDLE, IPython) is left to
    rich."""
    environ = os.environ if environ is None else environ
    if "idlelib" in sys.modules or "IPython" in sys.modules:
        return False
    compatible = environ.get("TTY_COMPATIBLE", "")
    if compatible in ("0", "1"):
        return compatible == "0"
    if environ.get("FORCE_COLOR") is not None:
        return environ.get("FORCE_COLOR") == ""
    try:
        return not stream.isatty()
    except (AttributeError, ValueError):
        return True


def write_table(console: Any, title: str, headers: Sequence[str], justify: Sequence[str],
                rows: Sequence[Sequence[Cell]], *, box: Sequence[str] = HEAVY_HEAD, pad_edge: bool = True) -> bool:
    """Write the table as rich would print it on `console`; False, with nothing written, where that is not
    certain (see the module's docstring)."""
    if not isinstance(console, PlainConsole) or not _utf8(console.file):
        return False
    texts = [[text for text, _style in row] for row in rows]
    every = "".join([title, *headers, *(text for row in texts for text in row)])
    if not (every.isascii() and every.isprintable()) or "[" in title or any("[" in h for h in headers):
        return False
    count = len(headers)
    widths = [max([len(headers[i])] + [len(row[i]) for row in texts]) for i in range(count)]
    lefts = [1 if i or pad_edge else 0 for i in range(count)]
    rights = [1 if i < count - 1 or pad_edge else 0 for i in range(count)]
    spans = [w + left + right for w, left, right in zip(widths, lefts, rights)]
    table_width = sum(spans) + count + 1
    if table_width > console.width or len(title) > table_width or not all(widths):
        return False

    def border(row: str) -> str:
        return row[0] + row[2].join(row[1] * span for span in spans) + row[3]

    def line(row: str, cells: Sequence[str]) -> str:
        parts = [" " * lefts[i] + justified(cells[i], widths[i], justify[i]) + " " * rights[i] for i in range(count)]
        return row[0] + row[2].join(parts) + row[3]

    out = ([title.ljust(table_width)] if title else []) + [border(box[TOP]), line(box[HEAD], headers),
                                                            border(box[HEAD_ROW])]
    out += [line(box[MID], row) for row in texts]
    out.append(border(box[BOTTOM]))
    console.file.write("\n".join(out) + "\n")
    console.file.flush()
    return True


def justified(text: str, width: int, how: str, measure: Callable[[str], int] = len) -> str:
    """`text` in `width` cells as rich.text.Text.justify puts it: right and center drop trailing spaces first.
    `measure`: a text's width in cells (len for ASCII)."""
    if how in ("right", "center"):
        text = text.rstrip()
    gap = width - measure(text)
    if how == "right":
        return " " * gap + text
    if how == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def _utf8(file: Any) -> bool:
    return str(getattr(file, "encoding", None) or "utf-8").lower().startswith("utf")
