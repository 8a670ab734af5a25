"""The help cache (idflow/cli/help_cache.py): a kept help line is byte for byte what typer prints, and it is
served only while everything it depends on is as it was."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

from idflow.cli import help_cache

pytestmark = pytest.mark.local

GROUPS = ("tasks", "workflows", "workflow", "events", "worker")
# The `idflow` console script as pip writes it, importtime on: stderr shows whether typer was imported.
ENTRY = "from idflow.cli.entry import run; run()"


def idflow(cache: Path, *argv: str, columns: str | None = None, no_cache: bool = False) -> tuple[int, bytes, bool]:
    """(exit code, stdout, whether typer was imported) of one `idflow` process."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "IDFLOW_NO_HELP_CACHE")}
    env["IDFLOW_CACHE_DIR"] = str(cache)
    if columns is not None:
        env["COLUMNS"] = columns
    if no_cache:
        env["IDFLOW_NO_HELP_CACHE"] = "1"
    ran = subprocess.run([sys.executable, "-X", "importtime", "-c", ENTRY, *argv], env=env, capture_output=True,
                         stdin=subprocess.DEVNULL, timeout=120)
    return ran.returncode, ran.stdout, b" typer" in ran.stderr


@pytest.mark.parametrize("words, columns", [
    *[((), columns) for columns in (None, "50", "100")],
    *[((group,), None) for group in GROUPS],
    *[(("tasks",), columns) for columns in ("1", "40", "52", "79", "81", "200", "0", "-3", "wide")],
], ids=lambda value: "-".join(value) or "root" if isinstance(value, tuple) else f"cols={value}")
def test_a_kept_help_line_is_what_typer_prints_and_is_served_without_typer(tmp_path, words, columns):
    argv = [*words, "--help"]
    first = idflow(tmp_path, *argv, columns=columns)
    kept = list((tmp_path / "help").iterdir())
    second = idflow(tmp_path, *argv, columns=columns)
    typers = idflow(tmp_path, *argv, columns=columns, no_cache=True)

    assert first[0] == second[0] == typers[0] == 0
    assert first[1] == second[1] == typers[1]
    assert b"Usage: idflow" in second[1]
    assert len(kept) == 1
    assert (first[2], second[2], typers[2]) == (True, False, True)


def test_each_width_has_its_own_entry(tmp_path):
    narrow = idflow(tmp_path, "tasks", "--help", columns="52")
    wide = idflow(tmp_path, "tasks", "--help", columns="100")
    served = idflow(tmp_path, "tasks", "--help", columns="52")

    assert narrow[1] != wide[1]  # click wraps at min(columns, 80) - 2: the two differ
    assert served == (0, narrow[1], False)
    assert len(list((tmp_path / "help").iterdir())) == 2


@pytest.mark.parametrize("argv", [
    ["doctor", "--help"],  # a command's help: it may depend on more than the code
    ["tasks", "upload", "--help"],
    ["--json", "--help"],
    ["nosuch", "--help"],  # exits 2: nothing kept
    ["tasks", "--json", "--help"],
    ["Tasks", "--help"],
])
def test_only_the_help_of_the_root_and_its_groups_is_kept(tmp_path, argv):
    idflow(tmp_path, *argv)
    again = idflow(tmp_path, *argv)

    assert not (tmp_path / "help").exists() or not list((tmp_path / "help").iterdir())
    assert again[2] is True


@pytest.mark.parametrize("damage", [
    b"", b"garbage", b"idflow help cache 1\n", b"idflow help cache 0\nx\n\nUsage: idflow stale\n",
    b"\xff\xfe\x00binary", "truncated",
])
def test_a_damaged_entry_is_not_served_and_is_written_again(tmp_path, damage):
    good = idflow(tmp_path, "tasks", "--help")[1]
    (entry,) = (tmp_path / "help").iterdir()
    entry.write_bytes(entry.read_bytes()[:-40] if damage == "truncated" else damage)

    damaged = idflow(tmp_path, "tasks", "--help")
    healed = idflow(tmp_path, "tasks", "--help")

    assert damaged == (0, good, True)
    assert healed == (0, good, False)


def test_a_cache_that_cannot_be_written_is_skipped(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")

    code, out, _ = idflow(blocker, "--help")

    assert code == 0 and b"Usage: idflow" in out


@pytest.mark.parametrize("environ", [{"IDFLOW_CACHE_DIR": "relative/dir"}, {"XDG_CACHE_HOME": "rel"},
                                     {"HOME": "~nobody-here"}])
def test_a_cache_dir_that_is_not_absolute_is_not_used(monkeypatch, environ):
    """Without a HOME, `~` stays `~`: the cache must never become a `~` directory in the project."""
    for name in ("IDFLOW_CACHE_DIR", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)

    assert help_cache.help_line(["--help"]) is None


def test_the_cache_can_be_turned_off():
    assert help_cache.help_line(["--help"]) is not None
    os.environ["IDFLOW_NO_HELP_CACHE"] = "1"
    try:
        assert help_cache.help_line(["--help"]) is None
    finally:
        del os.environ["IDFLOW_NO_HELP_CACHE"]


@pytest.mark.parametrize("columns", [None, "", "0", "-4", "abc", "1", "79", "80", "81", " 90", "300"])
def test_the_width_is_the_one_click_formats_for(monkeypatch, columns):
    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)

    assert help_cache.terminal_columns() == shutil.get_terminal_size().columns


@pytest.fixture
def kept(tmp_path, monkeypatch, capsys):
    """A help line kept with one extra idflow source file, `source`, among the files it depends on."""
    monkeypatch.setenv("IDFLOW_CACHE_DIR", str(tmp_path / "cache"))
    source = tmp_path / "fake_source.py"
    source.write_text("HELP = 'one'\n")
    fake = types.ModuleType("idflow._fake_help_source")
    fake.__file__ = str(source)
    monkeypatch.setitem(sys.modules, fake.__name__, fake)
    line = help_cache.help_line(["tasks", "--help"])
    help_cache.printed("idflow tasks", "Usage: idflow tasks [OPTIONS]")
    line.keep()
    capsys.readouterr()
    return line, source


def test_a_kept_line_is_served_while_its_sources_are_unchanged(kept, capsys):
    line, _ = kept

    assert line.serve() is True
    assert capsys.readouterr().out == "Usage: idflow tasks [OPTIONS]\n"


@pytest.mark.parametrize("change", ["content", "same_size_new_mtime", "removed"])
def test_a_changed_source_file_makes_the_line_run_typer_again(kept, capsys, change):
    line, source = kept
    status = source.stat()
    if change == "content":
        source.write_text("HELP = 'a longer one'\n")
    elif change == "same_size_new_mtime":
        source.write_text("HELP = 'two'\n")
        os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns + 1))
    else:
        source.unlink()

    assert line.serve() is False
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("context", ["import_path", "interpreter"])
def test_another_interpreter_or_import_path_does_not_read_the_line(kept, monkeypatch, context):
    line, _ = kept
    if context == "import_path":
        monkeypatch.setattr(sys, "path", [*sys.path, "/elsewhere"])
    else:
        monkeypatch.setattr(sys, "executable", "/other/python")

    assert line.serve() is False


def test_a_write_that_fails_leaves_no_partial_file(tmp_path, monkeypatch):
    monkeypatch.setenv("IDFLOW_CACHE_DIR", str(tmp_path))
    line = help_cache.help_line(["tasks", "--help"])
    help_cache.printed("idflow tasks", "Usage: idflow tasks [OPTIONS]")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(help_cache.os, "replace", refuse)
    line.keep()

    assert list((tmp_path / "help").iterdir()) == []


def test_help_printed_for_another_command_line_is_not_kept(tmp_path, monkeypatch):
    monkeypatch.setenv("IDFLOW_CACHE_DIR", str(tmp_path))
    line = help_cache.help_line(["workflows", "--help"])
    help_cache.printed("idflow tasks", "Usage: idflow tasks [OPTIONS]")

    line.keep()

    assert not (tmp_path / "help").exists()
