"""`idflow completion SHELL`: the shell's completion script, printed (nothing is installed)."""
from __future__ import annotations

from enum import Enum

import typer

from idflow.cli.startup import COMPLETE_VAR, get_completion_script


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


def completion(shell: Shell = typer.Argument(..., help="The shell to complete in.")) -> None:
    """Print the completion script: `eval "$(idflow completion bash)"` in ~/.bashrc;
    zsh: the same in ~/.zshrc; fish: `idflow completion fish | source` in config.fish."""
    typer.echo(get_completion_script(prog_name="idflow", complete_var=COMPLETE_VAR, shell=shell.value))

