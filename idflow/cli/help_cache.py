"""The help of `idflow` and of its groups, kept from the first time typer printed it and served without typer.

`idflow --help` and `idflow GROUP --help` print text that depends only on the code that declares and
formats it and on the terminal's width, yet typer's import alone costs most of their start-up. So the
first run of such a help line prints it through typer as always and keeps the text; a later run with the
same words, the same width, the same interpreter and import path, and every idflow, typer and click source
file that was loaded unchanged (path, size and mtime), prints the kept text without importing typer.
Anything else (other words, an option before them, a file changed, an unreadable or foreign entry) runs
typer. Only the root's and the groups' own help is kept: a command's help may depend on more than its code.

The entries live in `$IDFLOW_CACHE_DIR/help` (default `$XDG_CACHE_HOME/idflow`, then `~/.cache/idflow`);
`IDFLOW_NO_HELP_CACHE=1` turns the cache off. A cache that cannot be written is skipped silently.
This module imports only what `python -c pass` has loaded already (and zlib), so a hit costs a read and a
stat per source file.
"""
from __future__ import annotations

import os
import sys
import zlib

FORMAT = "idflow help cache 1"
SOURCES = ("idflow", "typer", "click")  # the packages whose loaded files the text depends on
_printed: list[tuple[str, str]] = []  # (command path, help text) of the help the groups printed in this process


def printed(command_path: str, text: str) -> None:
    """Called by the root and the groups when they render their help (`startup.LazyCommands.get_help`)."""
    _printed[:] = [(command_path, text)]


def terminal_columns() -> int:
    """The columns click formats help for: `shutil.get_terminal_size().columns`, without importing shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = 0
        columns = columns or 80
    return columns


def cache_dir() -> str | None:
    """Where the kept lines live; None when that is not an absolute path (no HOME: never a `~` dir in the cwd)."""
    base = os.environ.get("IDFLOW_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "idflow")
    return os.path.join(base, "help") if os.path.isabs(base) else None


class HelpLine:
    """One help command line (`idflow [GROUP] --help`) and where its kept text would be.

    A plain class: `dataclasses` imports `inspect`, which would cost a hit more than the rest of it."""

    __slots__ = ("words", "columns", "path")

    def __init__(self, words: tuple[str, ...], columns: int, path: str) -> None:
        self.words = words  # () for `idflow --help`, ("tasks",) for `idflow tasks --help`
        self.columns = columns
        self.path = path

    @property
    def context(self) -> str:
        return _context(self.columns)

    def serve(self) -> bool:
        """Write the kept text to stdout if it is still what typer would print; False when it is not."""
        try:
            with open(self.path, encoding="utf-8", errors="surrogateescape", newline="") as entry:
                kept = entry.read()
        except OSError:
            return False
        head, sep, text = kept.partition("\n\n")
        lines = head.split("\n")
        if (not sep or len(lines) < 3 or lines[0] != FORMAT or lines[1] != _escaped(self.context)
                or lines[2] != _checksum(text)):  # a torn or truncated write
            return False
        for line in lines[3:]:
            path, _, stamp = line.rpartition("\t")
            if not path or _stamp(path) != stamp:
                return False
        sys.stdout.write(text)
        sys.stdout.flush()
        return True

    def keep(self) -> None:
        """Keep the help this process printed, if it is this line's (called after a run that exited 0)."""
        if not _printed:
            return
        command_path, text = _printed[0]
        if command_path.split() != ["idflow", *self.words] or not text.isascii():
            return
        files = sorted({module.__file__ for name, module in list(sys.modules.items())
                        if name.split(".")[0] in SOURCES and getattr(module, "__file__", None)})
        if any("\n" in path or "\t" in path for path in files):
            return
        text += "\n"  # as click's echo ends it
        lines = [FORMAT, _escaped(self.context), _checksum(text)]
        for path in files:
            stamp = _stamp(path)
            if not stamp:
                return
            lines.append(f"{path}\t{stamp}")
        partial = f"{self.path}.{os.getpid()}.tmp"
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(partial, "w", encoding="utf-8", errors="surrogateescape", newline="") as entry:
                entry.write("\n".join(lines) + "\n\n" + text)
            os.replace(partial, self.path)
        except OSError:  # a full disk, a read-only home: the help was printed, keeping it is optional
            try:
                os.unlink(partial)
            except OSError:
                pass


def help_line(argv: list[str]) -> HelpLine | None:
    """The help line `argv` asks for (`--help` or `GROUP --help`), or None for any other command line."""
    if not argv or argv[-1] != "--help" or len(argv) > 2 or os.environ.get("IDFLOW_NO_HELP_CACHE"):
        return None
    words = tuple(argv[:-1])
    if words and not (words[0].isascii() and words[0].isalnum() and words[0].islower()):
        return None
    directory = cache_dir()
    if directory is None:
        return None
    columns = terminal_columns()
    context = _context(columns).encode("utf-8", "surrogateescape")
    name = f"{'-'.join(('idflow', *words))}-{columns}-{zlib.crc32(context):08x}.txt"
    return HelpLine(words, columns, os.path.join(directory, name))


def _context(columns: int) -> str:
    """What must match besides the source files: the interpreter, its import path and the width."""
    return "\0".join((sys.executable, *sys.path, str(columns)))


def _stamp(path: str) -> str:
    try:
        status = os.stat(path)
    except OSError:
        return ""
    return f"{status.st_size}:{status.st_mtime_ns}"


def _checksum(text: str) -> str:
    return f"{len(text)}:{zlib.crc32(text.encode('utf-8', 'surrogateescape')):08x}"


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")
