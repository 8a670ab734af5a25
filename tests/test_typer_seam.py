"""idflow/cli/startup.py is the one module that uses typer's private API; these tests pin what it relies on.

A typer upgrade that renames or changes one of these internals fails here, by name, instead of
silently making every command slower (the seam falls back to typer's own behaviour at run time).
"""
from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys

import pytest
import typer
import typer.core
import typer.main

from idflow.cli import startup


def test_typer_parameters_build_their_coercion_lazily_through_get_runtime_param():
    parameter = typer.core._TyperParameter
    assert list(inspect.signature(parameter.get_runtime_param).parameters) == ["self"]
    source = inspect.getsource(startup.TYPERS_OWN_GET_RUNTIME_PARAM)
    # typer's own method caches what build_runtime_param makes in _runtime_param: the seam fills that cache first
    assert "self._runtime_param is None" in source and "build_runtime_param(self.type_descriptor)" in source


def test_runtime_param_is_the_dataclass_the_seam_subclasses():
    from typer._coercion import RuntimeParam, build_runtime_param

    assert dataclasses.is_dataclass(RuntimeParam)
    assert [f.name for f in dataclasses.fields(RuntimeParam)] == ["parameter_info", "annotation"]
    assert list(inspect.signature(RuntimeParam._coerce_value).parameters) == ["self", "value", "param", "ctx"]
    assert list(inspect.signature(build_runtime_param).parameters) == ["descriptor"]


def test_the_type_descriptor_has_the_fields_the_seam_reads():
    app = typer.Typer()

    @app.command()
    def command(name: str = typer.Option("x"), count: int = typer.Option(1)) -> None:
        pass

    click_command = typer.main.get_command(app)
    params = [p for p in click_command.params if p.name in ("name", "count")]
    assert len(params) == 2
    for param in params:
        described = param.type_descriptor
        assert described.file_annotation is None
        assert described.parameter_info.parser is None
        assert described.annotation in (str, int)
        assert param._runtime_param is None  # built on first use, which the seam relies on


def test_the_seam_is_installed_and_still_coerces_what_is_not_a_str():
    startup.plain_values_without_pydantic()
    assert getattr(typer.core._TyperParameter.get_runtime_param, "plain_str", False)
    app = typer.Typer()
    seen = {}

    @app.command()
    def command(name: str = typer.Option("x"), count: int = typer.Option(1)) -> None:
        seen.update(name=name, count=count)

    typer.main.get_command(app).main(["--name", "n", "--count", "5"], standalone_mode=False)
    assert seen == {"name": "n", "count": 5}
    with pytest.raises(Exception):
        typer.main.get_command(app).main(["--count", "five"], standalone_mode=False)


def test_a_str_option_imports_no_pydantic():
    probe = ("import sys; from idflow.cli.app import main; main(['--server-url', 'http://h:1/api', 'tasks', '--help']); "
             "print('pydantic' in sys.modules)")
    ran = subprocess.run([sys.executable, "-P", "-c", probe], capture_output=True, text=True, timeout=60)
    assert ran.stdout.strip().splitlines()[-1] == "False", ran.stderr[-2000:]


def test_the_root_group_is_a_plain_typer_group_the_lazy_one_can_replace():
    """root_command swaps the class of typer's root group; that needs the exact TyperGroup and its hooks."""
    app = typer.Typer()

    @app.command()
    def one() -> None:
        pass

    @app.command()
    def two() -> None:
        pass

    assert type(typer.main.get_command(app)) is typer.core.TyperGroup
    for hook in ("list_commands", "get_command", "resolve_command", "format_commands"):
        assert hook in vars(typer.core.TyperGroup) or hasattr(typer.core.TyperGroup, hook)
    assert issubclass(startup._LazyGroups, typer.core.TyperGroup)


def test_click_exceptions_and_completion_come_from_the_typer_in_use():
    assert issubclass(startup.UsageError, startup.ClickException)
    script = startup.get_completion_script(prog_name="idflow", complete_var="_IDFLOW_COMPLETE", shell="bash")
    assert "_IDFLOW_COMPLETE" in script
    assert callable(startup.completion_init)


def test_a_lazy_group_lists_and_suggests_its_declarations_and_imports_a_command_only_when_resolved():
    """lazy_group relies on: typer making one command (not a group) of a Typer with one command, TyperGroup's
    format_commands and shell_complete asking get_command, and its "Did you mean" reading self.commands."""
    holder = typer.Typer()

    @holder.command("only")
    def only() -> None:
        """One."""

    assert type(typer.main.get_command(holder)) is typer.core.TyperCommand
    app = typer.Typer(cls=startup.lazy_group([("alpha", "no_such_module_anywhere:f", "First."),
                                              ("beta", "tests.test_typer_seam:_beta", "Second.")]),
                      rich_markup_mode=None)

    @app.callback()
    def root() -> None:
        pass

    group = typer.main.get_command(app)
    ctx = group.make_context("prog", ["--help"], resilient_parsing=True)
    assert [(item.value, item.help) for item in group.shell_complete(ctx, "")][:2] == [("alpha", "First."),
                                                                                      ("beta", "Second.")]
    ctx = group.make_context("prog", ["beta"])
    with pytest.raises(startup.UsageError, match="Did you mean 'beta'"):
        group.resolve_command(ctx, ["betta"])
    assert group.resolve_command(ctx, ["beta"])[1].callback is not None
    with pytest.raises(ModuleNotFoundError):
        group.resolve_command(ctx, ["alpha"])


def _beta() -> None:
    """Second."""
