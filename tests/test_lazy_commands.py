"""Commands are declared as data (idflow/cli/groups.py::COMMANDS) and imported when one runs
(idflow/cli/startup.py::lazy_group): help lists them without importing a command module, and the
declarations stay equal to the functions they name."""
from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import subprocess
import sys

import pytest

import idflow.cli.commands
from idflow.cli import groups

PROBE = """
import json, sys
from idflow.cli.app import main
main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps(sorted(m for m in sys.modules if m.startswith("idflow.cli.commands."))))
"""


@pytest.mark.parametrize("argv", [["--help"], ["tasks", "--help"], ["workflows", "--help"], ["workflow", "--help"],
                                  ["events", "--help"], ["worker", "--help"], ["tasks", "lst"], []])
def test_help_imports_no_command_module(argv):
    ran = subprocess.run([sys.executable, "-P", "-c", PROBE, *argv], capture_output=True, text=True, timeout=60)
    assert "Usage: idflow" in ran.stdout + ran.stderr
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == []


def test_a_command_imports_its_own_module_only():
    ran = subprocess.run([sys.executable, "-P", "-c", PROBE, "tasks", "upload", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert json.loads(ran.stdout.strip().splitlines()[-1]) == ["idflow.cli.commands.tasks_plan"]


def _function(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("group, name, target, help_", groups.COMMANDS,
                         ids=[f"{g or 'idflow'}-{n}" for g, n, _t, _h in groups.COMMANDS])
def test_a_declared_command_is_a_function_whose_docstring_opens_with_its_help(group, name, target, help_):
    function = _function(target)
    assert inspect.isfunction(function)
    words = " ".join((inspect.getdoc(function) or "").split("\n\n")[0].split())
    assert words.startswith(help_), f"{group} {name}: declared help {help_!r}, docstring {words!r}"
    assert help_.endswith(".") or help_ == words  # the first sentence, as click shortens it


def test_the_declarations_are_unique_and_name_every_command_module():
    keys = [(group, name) for group, name, _t, _h in groups.COMMANDS]
    assert len(keys) == len(set(keys))
    assert {group for group, _n, _t, _h in groups.COMMANDS} == {""} | set(groups.GROUPS)
    modules = {info.name for info in pkgutil.iter_modules(idflow.cli.commands.__path__)}
    named = {target.partition(":")[0].rpartition(".")[2] for _g, _n, target, _h in groups.COMMANDS}
    assert named == modules


def _built_tree():
    """Every group and command as click builds them when each is named: {group: {name: command}}."""

    from idflow.cli.app import app
    from idflow.cli.startup import root_command

    root = root_command(app)
    ctx = root.make_context("idflow", ["--help"], resilient_parsing=True)
    tree = {"": {}}
    for name in root.list_commands(ctx):
        command = root.get_command(ctx, name)
        if name in groups.GROUPS:
            sub = command.make_context(name, [], parent=ctx, resilient_parsing=True)
            tree[name] = {n: command.get_command(sub, n) for n in command.list_commands(sub)}
        else:
            tree[""][name] = command
    return tree, root


def test_every_command_typer_registers_is_a_declaration_and_no_declaration_is_lost():
    tree, _root = _built_tree()
    registered = {(group, name) for group, commands in tree.items() for name in commands}
    assert registered == {(group, name) for group, name, _t, _h in groups.COMMANDS}
    for group, name, target, help_ in groups.COMMANDS:
        command = tree[group][name]
        function = _function(target)
        assert command.name == name
        context = {n for n, p in inspect.signature(function).parameters.items() if "Context" in str(p.annotation)}
        assert {p.name for p in command.params} == set(inspect.signature(function).parameters) - context
        for limit in (30, 45, 200):  # help lists the declared help as typer would list the function's
            from idflow.cli.startup import core

            assert core.TyperCommand(name, help=help_).get_short_help_str(limit) == command.get_short_help_str(limit)


def test_completion_lists_the_declared_commands_without_importing_them():
    probe = PROBE.replace("main(sys.argv[1:])", "try:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass")
    env = dict(os.environ, _IDFLOW_COMPLETE="complete_bash", COMP_WORDS="idflow tasks ", COMP_CWORD="2")
    ran = subprocess.run([sys.executable, "-P", "-c", probe], capture_output=True, text=True, timeout=60, env=env)
    *completions, modules = ran.stdout.strip().splitlines()
    assert {"list", "upload", "import", "status"} <= {line.split(",")[-1] for line in completions}, ran.stdout
    assert json.loads(modules) == []


HEAVY_FOR_HELP = {"rich", "libcst", "git", "httpx", "ssl", "prefect", "pydantic", "yaml", "conductor"}
HELP_PROBE = """
import json, sys
from idflow.cli.app import main
main(sys.argv[1:])
sys.stdout.flush()
print(json.dumps(sorted({m.split(".")[0] for m in sys.modules})))
"""


@pytest.mark.parametrize("group, name", [(g, n) for g, n, _t, _h in groups.COMMANDS],
                         ids=[f"{g or 'idflow'}-{n}" for g, n, _t, _h in groups.COMMANDS])
def test_a_commands_own_help_imports_nothing_only_its_run_needs(group, name):
    """`idflow GROUP COMMAND --help` imports the command's module: its use case, renderer and client stay in
    the function that runs them (tests/test_architecture.py::COMMAND_RUN)."""
    argv = [group, name, "--help"] if group else [name, "--help"]
    ran = subprocess.run([sys.executable, "-P", "-c", HELP_PROBE, *argv], capture_output=True, text=True, timeout=60)
    assert "Usage: idflow" in ran.stdout, ran.stderr[-2000:]
    assert set(json.loads(ran.stdout.strip().splitlines()[-1])) & HEAVY_FOR_HELP == set()
