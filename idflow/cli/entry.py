"""The `idflow` command: the help of the root and its groups from the help cache when it holds it, else the CLI."""
from __future__ import annotations

import sys

from idflow.cli.help_cache import help_line


def run() -> None:
    argv = sys.argv[1:]
    line = help_line(argv)
    if line is not None and line.serve():
        sys.exit(0)
    from idflow.cli.app import main  # typer and the commands: everything but a kept help line

    code = main(argv)
    if line is not None and code == 0:
        line.keep()
    sys.exit(code)
