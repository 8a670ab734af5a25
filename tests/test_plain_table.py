"""A table written without rich is the very text rich prints where it prints no colour (idflow.cli.render.
plain_table), for any title, headers, rows, justification, box and edge padding; what it cannot draw exactly, it
leaves to rich. No server."""
from __future__ import annotations

import io
import sys
from contextlib import redirect_stdout

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich import box as rich_box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from idflow.cli.render.plain_table import (HEAVY_HEAD, SIMPLE_HEAVY, WIDTH, ONE_CELL, PlainConsole, plain_markup, is_plain,
                                         write_table)

BOXES = {"heavy_head": (HEAVY_HEAD, rich_box.HEAVY_HEAD), "simple_heavy": (SIMPLE_HEAVY, rich_box.SIMPLE_HEAVY)}
ascii_text = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=12)
any_text = st.text(max_size=8)


def rich_print(title, headers, justify, rows, box, pad_edge) -> str:
    out = io.StringIO()
    console = Console(file=out, width=WIDTH, highlight=False, emoji=False)
    table = Table(title=title or None, title_justify="left", box=box, pad_edge=pad_edge)
    for header, how in zip(headers, justify):
        table.add_column(header, justify=how, overflow="fold")
    for row in rows:
        table.add_row(*(Text(text, style=style) for text, style in row))
    console.print(table)
    return out.getvalue()


def plain_print(*args, **kwargs) -> tuple[bool, str]:
    out = io.StringIO()
    made = []
    with redirect_stdout(out):
        written = write_table(PlainConsole(lambda: made.append(1)), *args, **kwargs)
    assert not made   # never loaded rich to write it
    return written, out.getvalue()


@settings(max_examples=300, deadline=None)
@given(data=st.data(), count=st.integers(1, 6), box=st.sampled_from(sorted(BOXES)), pad_edge=st.booleans(),
       texts=st.sampled_from(["ascii", "any"]))
def test_it_writes_what_rich_prints_or_nothing(data, count, box, pad_edge, texts):
    text = ascii_text if texts == "ascii" else any_text
    title = data.draw(text)
    headers = data.draw(st.lists(text, min_size=count, max_size=count))
    justify = data.draw(st.lists(st.sampled_from(["left", "right", "center"]), min_size=count, max_size=count))
    rows = data.draw(st.lists(st.lists(st.tuples(text, st.sampled_from(["", "red", "bold"])), min_size=count,
                                       max_size=count), max_size=6))
    ours, theirs = BOXES[box]
    written, out = plain_print(title, headers, justify, rows, box=ours, pad_edge=pad_edge)
    if written:
        assert out == rich_print(title, headers, justify, rows, theirs, pad_edge)
    else:
        assert out == ""


WIDE = [[("x" * 120, ""), ("y" * 90, "")]]


@pytest.mark.parametrize("case", ["markup_in_title", "markup_in_header", "too_wide", "title_wider_than_table",
                                  "not_ascii", "control_character"])
def test_what_it_cannot_draw_exactly_is_left_to_rich(monkeypatch, case):
    title, headers, rows = "T", ["a", "b"], [[("1", ""), ("2", "")]]
    if case == "markup_in_title":
        title = "[bold]T"
    elif case == "markup_in_header":
        headers = ["[red]a", "b"]
    elif case == "too_wide":
        rows = WIDE
    elif case == "title_wider_than_table":
        title = "a title longer than the table it names"
    elif case == "not_ascii":
        rows = [[("名前", ""), ("2", "")]]
    else:
        rows = [[("a\x1b[2Jb", ""), ("2", "")]]
    assert plain_print(title, headers, ["left", "left"], rows) == (False, "")


def test_a_file_that_is_not_utf8_gets_rich_and_its_ascii_boxes(monkeypatch):
    out = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    monkeypatch.setattr(sys, "stdout", out)
    assert not write_table(PlainConsole(lambda: None), "T", ["a"], ["left"], [[("1", "")]])


def test_anything_else_goes_to_the_rich_console_made_once():
    made = []

    class Rich:
        def print(self, *args, **options):
            made.append((args, options))

    console = PlainConsole(lambda: made.append("made") or Rich())
    console.print("[red]error[/] a \\[name]")   # an escape: rich's to read
    console.print("y", end="")
    console.print(["not text"])
    assert made == ["made", (("[red]error[/] a \\[name]",), {}), (("y",), {"end": ""}), ((["not text"],), {})]
    assert console.width == WIDTH and not console.is_terminal


@pytest.mark.parametrize("environ,isatty,plain", [
    ({}, False, True), ({}, True, False),
    ({"FORCE_COLOR": "1"}, False, False), ({"FORCE_COLOR": ""}, True, True),
    ({"TTY_COMPATIBLE": "1"}, False, False), ({"TTY_COMPATIBLE": "0"}, True, True),
    ({"TTY_COMPATIBLE": "0", "FORCE_COLOR": "1"}, False, True), ({"TTY_COMPATIBLE": "x"}, False, True),
])
def test_plain_exactly_where_rich_sees_no_terminal(monkeypatch, environ, isatty, plain):
    class Out(io.StringIO):
        def isatty(self):
            return isatty

    out = Out()
    monkeypatch.setattr(sys, "stdout", out)
    assert is_plain(sys.stdout, environ) is plain
    rich_says = Console(file=out, _environ=environ).is_terminal
    assert rich_says is not plain


@pytest.mark.parametrize("how", ["left", "right", "center"])
@pytest.mark.parametrize("box", sorted(BOXES))
def test_spaces_around_cells_are_kept_or_dropped_as_rich_does(how, box):
    rows = [[("a  ", ""), ("  b", "")], [("cc ", "red"), (" d ", "")]]
    headers, title = ["h ", " i"], "Title"
    ours, theirs = BOXES[box]
    for pad_edge in (True, False):
        written, out = plain_print(title, headers, [how, how], rows, box=ours, pad_edge=pad_edge)
        assert written and out == rich_print(title, headers, [how, how], rows, theirs, pad_edge)


def rich_markup_print(markup: str) -> str:
    out = io.StringIO()
    Console(file=out, width=WIDTH, highlight=False, emoji=False).print(markup)
    return out.getvalue()


words = st.text(st.one_of(st.characters(min_codepoint=32, max_codepoint=126), st.sampled_from(sorted(ONE_CELL)),
                          st.sampled_from("éß中⚠\u0301\u200b")), max_size=15)
tags = st.sampled_from(["[green]", "[red]", "[dim]", "[bold red]", "[/]", "[/green]", "[/red]", "[x]", "[1]",
                        "[", "]", "\\", "[/bold red]", "[dim yellow]", "[link=x]", "[#fff]", "\n", "\n\n"])


@settings(max_examples=500, deadline=None)
@given(parts=st.lists(st.one_of(words, tags), max_size=8))
def test_a_line_of_simple_markup_is_printed_as_rich_prints_it(parts):
    markup = "".join(parts)
    text = plain_markup(markup)
    if text is not None:
        assert text + "\n" == rich_markup_print(markup)


@pytest.mark.parametrize("markup", ["[green]In sync: nothing to upload.[/]", "[dim]unchanged 1000[/]",
                                    "", "  padded  ", "Plan: [green]0 to create[/], [yellow]0 to update[/]",
                                    "[bold red]! x[/] [dim](y)[/]", "\nPlan: [green]1 to create[/]",
                                    "local 2 · server 3 · [green]in sync 1[/] · [dim]foreign 0[/]", "more…"])
def test_idflow_s_own_lines_are_written_without_rich(markup):
    out = io.StringIO()
    with redirect_stdout(out):
        PlainConsole(lambda: pytest.fail("rich was loaded")).print(markup)
    assert out.getvalue() == rich_markup_print(markup)


@pytest.mark.parametrize("markup", ["x" * 199 + "中", "[dim]" + "x" * 199 + "中[/]", "x" * 198 + "·…",
                                    "x" * 200 + "\u0301", "→" * 201])
def test_a_long_line_beyond_ascii_is_measured_as_rich_measures_it(markup):
    text = plain_markup(markup)
    assert text is None or text + "\n" == rich_markup_print(markup)


def test_one_cell_characters_are_one_cell_to_rich():
    from rich.cells import cell_len

    assert all(cell_len(char) == 1 for char in ONE_CELL)


def test_a_line_beyond_ascii_goes_to_rich_on_a_stream_that_is_not_utf8():
    out = io.TextIOWrapper(io.BytesIO(), encoding="latin-1")
    made = []
    with redirect_stdout(out):
        PlainConsole(lambda: made.append(1) or Console(file=out, width=WIDTH)).print("local 1 · server 2")
    assert made == [1]


@given(value=st.text(max_size=20))
def test_escape_is_riches(value):
    from rich.markup import escape as rich_escape

    from idflow.cli.render.text import escape

    assert escape(value) == rich_escape(value)


@pytest.mark.parametrize("colours", [None, "standard"])
def test_rows_drawn_on_a_terminal_keep_or_drop_spaces_as_rich_does(colours):
    """draw_rows (rich draws the frame, idflow the rows) justifies as write_table does: one function, rich's rule."""
    from idflow.cli.render.table import draw_rows

    rows = [[("ab  ", ""), ("c ", "red"), ("é ", "")], [("x", ""), ("yyyy", ""), ("中", "")]]

    def table():
        made = Table(title="T", title_justify="left")
        for header, how in (("h", "right"), ("i", "center"), ("j", "right")):
            made.add_column(header, justify=how)
        return made

    drawn, laid_out = io.StringIO(), io.StringIO()
    options = {"width": WIDTH, "highlight": False, "emoji": False, "color_system": colours,
               "force_terminal": colours is not None}
    assert draw_rows(Console(file=drawn, **options), table(), rows)
    expected = table()
    for row in rows:
        expected.add_row(*(Text(text, style=style) for text, style in row))
    Console(file=laid_out, **options).print(expected)
    assert drawn.getvalue() == laid_out.getvalue()
