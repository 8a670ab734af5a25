"""Commands a help text names in backticks run as written and show what the help says they show."""
from __future__ import annotations

import re
import shlex

import pytest

from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server


def examples(help_text: str) -> list[list[str]]:
    flat = " ".join(help_text.split())
    return [shlex.split(found)[1:] for found in re.findall(r"`(idflow [^`]+)`", flat)]


def test_adopt_help_examples_show_the_stamps_project(project, prefix, capsys):
    name = prefix + "stamped"
    project.write_task(name, task_source(name))
    text = project.config_path.read_text()
    old = re.search(r"project: (\S+)", text).group(1)
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    project.config_path.write_text(text.replace(f"project: {old}", f"project: {old}-renamed"))
    (project.tasks_dir / name).rename(project.tasks_dir.parent / "gone")   # only on the server now: foreign
    shown = run_cli(capsys, "tasks", "adopt", "--help")
    commands = examples(shown.out)
    assert commands == [["tasks", "list", "--sync", "-v"]], shown.out
    for argv in commands:
        done = run_cli(capsys, *argv)
        assert done.code == 0, done.err
        row = next(line for line in done.out.splitlines() if name in line)
        assert old in row, done.out   # the identity `--from` takes, next to the definition
    adopted = run_cli(capsys, "tasks", "adopt", "--from", old, name, "-y", "--json")
    assert adopted.code == 0, adopted.out + adopted.err
