"""Everyday conveniences that need no server (issue 18): shell completion, --no-color and NO_COLOR,
help that shows real option types, and task views that stay readable at 80 columns and at scale."""
from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from rich.console import Console

from idflow.cli.render.table import FAST_ROWS
from tests.clihelp import run_cli, task_source

IDFLOW = [sys.executable, "-m", "idflow.cli"]


def _command_paths():
    import typer

    from idflow.cli.app import app

    def walk(command, path):
        yield path
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, path + (name,))

    return list(walk(typer.main.get_command(app), ()))


# ---- help --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "idflow")
def test_help_never_shows_bool_after_a_flag(capsys, path):
    result = run_cli(capsys, *path, "--help")
    assert result.code == 0 and "Usage:" in result.out
    assert "<bool>" not in result.out and "--help" in result.out


def test_help_still_shows_the_type_of_an_option_that_takes_a_value(capsys):
    out = run_cli(capsys, "--help").out
    line = next(text for text in out.splitlines() if "--server-url" in text)
    assert "<str>" in line
    assert "--no-color" in out


# ---- shell completion --------------------------------------------------------------------------
@pytest.mark.parametrize("shell, marker", [("bash", "complete -o default -F _idflow_completion idflow"),
                                           ("zsh", "compdef _idflow_completion idflow"),
                                           ("fish", "complete --command idflow")])
def test_completion_prints_the_script_for_each_shell(capsys, shell, marker):
    result = run_cli(capsys, "completion", shell)
    assert result.code == 0 and marker in result.out and f"_IDFLOW_COMPLETE=complete_{shell}" in result.out


def test_completion_of_an_unknown_shell_is_a_usage_error(capsys):
    assert run_cli(capsys, "completion", "tcsh").code == 2


@pytest.mark.parametrize("shell, env, expected", [
    ("bash", {"COMP_WORDS": "idflow tas", "COMP_CWORD": "1"}, "tasks"),
    ("zsh", {"_TYPER_COMPLETE_ARGS": "idflow tasks li"}, "list"),
    ("fish", {"_TYPER_COMPLETE_ARGS": "idflow tasks sh", "_TYPER_COMPLETE_FISH_ACTION": "get-args"}, "show"),
])
def test_the_scripts_protocol_completes_commands(shell, env, expected):
    """What the printed script runs when TAB is pressed: the program answers with candidates."""
    environ = {**os.environ, "_IDFLOW_COMPLETE": f"complete_{shell}", **env}
    done = subprocess.run(IDFLOW, env=environ, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert expected in done.stdout


# ---- colour ------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["default", "--no-color", "NO_COLOR"])
def test_no_color_and_NO_COLOR_print_no_ansi_at_all(tmp_path, monkeypatch, capsys, how):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FORCE_COLOR", "1")  # as if on a terminal: rich would colour
    monkeypatch.delenv("NO_COLOR", raising=False)
    if how == "NO_COLOR":
        monkeypatch.setenv("NO_COLOR", "1")
    flags = ["--no-color"] if how == "--no-color" else []
    (tmp_path / "tasks" / "good").mkdir(parents=True)
    (tmp_path / "tasks" / "good" / "good.py").write_text(task_source("good"))
    listed = run_cli(capsys, *flags, "--tasks-dir", "tasks", "tasks", "list", "--local")
    failed = run_cli(capsys, *flags, "--tasks-dir", "nowhere", "tasks", "list", "--local")
    assert listed.code == 0 and "good" in listed.out and failed.code == 1 and "does not exist" in failed.out
    coloured = "\x1b[" in listed.out + listed.err + failed.out + failed.err
    assert coloured is (how == "default")


# ---- task views: 80 columns, scale, natural order --------------------------------------------
def console(width: int = 80) -> Console:
    return Console(file=io.StringIO(), width=width, color_system=None, highlight=False)


def remote_defs(names):
    return [{"name": n, "retryCount": 3, "timeoutSeconds": 3600, "responseTimeoutSeconds": 600,
             "timeoutPolicy": "TIME_OUT_WF", "retryLogic": "EXPONENTIAL_BACKOFF", "rateLimitPerFrequency": 10,
             "rateLimitFrequencyInSeconds": 60, "concurrentExecLimit": 5} for n in names]


LONG_NAMES = [f"payments_reconciliation_batch_{i}_v2" for i in (10, 2, 1)]


@pytest.mark.parametrize("wide", [False, True])
def test_remote_list_at_80_columns_cuts_no_name_and_sorts_naturally(wide):
    from idflow.cli.render.tasks import render_remote

    out = console()
    render_remote(out, remote_defs(LONG_NAMES), wide=wide, usage={n: 2 for n in LONG_NAMES})
    text = out.file.getvalue()
    assert all(len(line) <= 80 for line in text.splitlines())
    if not wide:  # the narrow view keeps every name whole on one line, with its policy and use count
        rows = [line for line in text.splitlines() if "payments_" in line]
        assert [r.split()[0] for r in rows] == sorted(LONG_NAMES, key=lambda n: int(n.split("_")[3]))
        assert all(r.split()[1:] == ["3", "3600", "TIME_OUT_WF", "2"] for r in rows)
    else:  # what does not fit is left out, and said so, never a name cut short
        rows = [line for line in text.splitlines() if "payments_" in line]
        assert sorted(r.split()[0] for r in rows) == sorted(LONG_NAMES) and "left out at this width" in text


def test_sync_list_at_80_columns_keeps_name_and_status():
    from idflow.cli.render.tasks import render_sync
    from idflow.taskdefs.plan import make_plan

    desired = [{"name": n, "retryCount": 1} for n in LONG_NAMES]
    actual = [{"name": n, "retryCount": 2 if n.endswith("10_v2") else 1} for n in LONG_NAMES]
    out = console()
    render_sync(out, make_plan(desired, actual, sources={n: f"idflow/tasks/{n}/{n}.py:12" for n in LONG_NAMES}))
    rows = [line for line in out.file.getvalue().splitlines() if "payments_" in line]
    assert len(rows) == 3 and all(len(r) <= 80 for r in rows)
    assert "changed (1 field)" in rows[-1] and all(r.split()[0] in LONG_NAMES for r in rows)


@pytest.mark.parametrize("count", [3, 31, 5000])
def test_an_upload_result_lists_a_screenful_and_counts_beyond(count):
    from idflow.cli.render.tasks import render_apply

    names = [f"t{i}" for i in range(count, 0, -1)]
    doc = {"created": names, "updated": [], "unchanged": ["u1", "u2"], "failed": [], "not_attempted": []}
    out = console(200)
    render_apply(out, doc)
    lines = out.file.getvalue().splitlines()
    if count <= 30:
        assert lines[:count] == [f"created t{i}" for i in range(1, count + 1)]  # t2 before t10
    else:
        assert len(lines) == 2 and f"created {count}" in lines[0] and "--json" in lines[0]
    assert lines[-1] == "unchanged 2"


@pytest.mark.parametrize("count", [FAST_ROWS + 10, 100_000])
def test_a_large_listing_keeps_the_table_look_with_every_name(count):
    """Rows are written as lines of text between the frame rich draws: the look of a small table, at any size."""
    from idflow.cli.render.tasks import render_remote

    names = [f"bulk_{i}" for i in range(count)] + ["evil\x1b[2Kname"]
    out = console(80)
    render_remote(out, remote_defs(names), usage={})
    text = out.file.getvalue()
    assert "\x1b" not in text and "evil\\x1b[2Kname" in text
    lines = text.splitlines()
    assert lines[0].startswith("Task definitions on the server") and lines[2].split()[:2] == ["name", "retries"]
    assert set(lines[3].strip()) == {"━"} and not lines[-1].strip()
    rows = [line.split()[0] for line in lines[4:-1]]
    assert rows[:3] == ["bulk_0", "bulk_1", "bulk_2"] and "bulk_10" in rows and len(rows) == len(names)
    assert len({len(line) for line in lines[1:]}) == 1  # every line as wide as the frame


def test_drawn_rows_are_what_rich_prints_with_and_without_colour():
    """The drawn table is byte for byte rich's own, colour codes included, for wide and narrow consoles."""
    from rich.console import Console

    from idflow.cli.render import table
    from idflow.cli.render.tasks import render_remote, render_sync
    from idflow.taskdefs.plan import make_plan

    names = [f"t{i}" + "é" * (i % 3) + "中" * (i % 2) for i in range(40)] + ["[green]x", "evil\x1b[2K"]
    defs = remote_defs(names)

    def printed(render, width: int, colours: str | None, draw: bool) -> str:
        out = Console(file=io.StringIO(), width=width, color_system=colours, force_terminal=colours is not None)
        saved = table.draw_rows
        if not draw:
            table.draw_rows = lambda *_a, **_k: False  # rich lays out every row, as before
        try:
            render(out)
        finally:
            table.draw_rows = saved
        return out.file.getvalue()

    views = [lambda c: render_remote(c, defs, usage={}),
             lambda c: render_sync(c, make_plan(defs[:25], defs[10:]), wide=True, usage={})]
    for render in views:
        for width in (160, 60, 30):
            for colours in (None, "standard", "truecolor"):
                assert printed(render, width, colours, True) == printed(render, width, colours, False)


def test_an_emoji_code_in_a_name_is_printed_as_written(monkeypatch, capsys):
    """Escaped markup does not stop rich's emoji codes: the consoles idflow prints on do not replace them."""
    from idflow.cli.render.text import safe
    from idflow.cli.state import _console

    monkeypatch.delenv("NO_COLOR", raising=False)
    _console(stderr=False).print(f"[yellow]~ {safe('a:smile:b:thumbs_up:')}[/]")
    assert "a:smile:b:thumbs_up:" in capsys.readouterr().out


def test_natural_order_and_json_values():
    from idflow.cli.render.text import json_value, natural, safe

    assert natural(["t10", "t2", "t1", "T3", "a"]) == ["a", "t1", "t2", "T3", "t10"]
    assert json_value("ALERT_ONLY") == '"ALERT_ONLY"' and json_value(60) == "60" and json_value(None) == "(unset)"
    assert safe("[green]x\x1b]0;t\x07") == "\\[green]x\\x1b]0;t\\x07"
