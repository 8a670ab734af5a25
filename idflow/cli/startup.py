"""Start-up cost of the CLI: what typer would import that a command does not need.

Every `idflow` command pays for its imports before it does anything, so the local commands
(`--help`, `tasks list --local`, `tasks new`) are mostly start-up. Two costs come from typer:
- with rich installed, typer renders help through `typer.rich_utils`, which imports rich's
  console, markdown, traceback and pretty-printer (with attrs): ~0.1 s, more than the rest of
  `idflow --help`. The help is click's plain layout instead, as git, kubectl and terraform print it.
- typer 0.2x checks every option value with a pydantic TypeAdapter, built on first use. The
  root options (`--config`, `--server-url`, ...) are `str`, so every command imported pydantic
  (~60 ms with its plugin loader). A `str` value needs no check (click hands over argv strings),
  nor does a flag's `bool`, a list of strs, or the None of an option not given (of any type:
  `tasks upload --all` leaves its names, --out and --require-clean out, and built an adapter for each).
- typer turns every command of every group into a click command at each start (signature and
  type hints of forty functions, ~10 ms): `root_command` builds a group (tasks, workflows, ...)
  when a command line or completion first names it, and lists the groups in help from their help
  text alone.
- importing every command module (and what each imports at its top) to list them: a group made by
  `lazy_group` holds its commands as declarations (`idflow/cli/groups.py::COMMANDS`: name,
  "module:function", help) and imports a command's module only when that command runs, completes or
  prints its own help. Help and completion list the commands from the declarations. This is the one
  place the CLI imports a module by name (`importlib.import_module`).
`app.py` switches these on; `tests/test_startup_imports.py` fails when one stops working.

This is the one module that uses typer's private API (`typer.core._TyperParameter`, `typer._coercion`,
`typer._click`, `typer._completion_*`): every other module imports typer's public names, or these from here
(`tests/test_architecture.py` holds that). `tests/test_typer_seam.py` pins each internal relied on, so a typer
upgrade that changes one fails there by name; at run time the seam then falls back to typer's own behaviour.
"""
from __future__ import annotations

import copy
import importlib
from typing import Any, List

import typer
import typer.main
from typer import core
from typer._completion_classes import completion_init  # noqa: F401  (the completion command's)
from typer._completion_shared import get_completion_script  # noqa: F401
from typer.core import TyperGroup

from idflow.cli import help_cache

try:  # recent typer vendors its own click (typer._click); older typer uses click itself
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover - older typer
    from click.exceptions import ClickException, UsageError

try:  # typer 0.2x checks option values with pydantic, through these
    from typer._coercion import RuntimeParam, build_runtime_param
except ImportError:  # pragma: no cover - a typer without pydantic coercion
    RuntimeParam = build_runtime_param = None
# typer's own method, before plain_values_without_pydantic wraps it (None: a typer without one)
TYPERS_OWN_GET_RUNTIME_PARAM = getattr(getattr(core, "_TyperParameter", None), "get_runtime_param", None)
COMPLETE_VAR = "_IDFLOW_COMPLETE"  # set by the completion scripts when the shell asks for completions


def plain_help(app: Any) -> None:
    """Help and usage in click's layout for `app` and every group under it (no rich import)."""
    app.rich_markup_mode = None
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_help(group.typer_instance)


_STR_LISTS = (list[str], List[str])


def plain_values_without_pydantic() -> None:
    """Let `str` and `bool` values skip typer's pydantic adapter; anything else still goes through it.

    Uses typer internals (`typer.core._TyperParameter`, `typer._coercion`): with a typer that has
    none, this does nothing and only start-up is slower.
    """
    parameter = getattr(core, "_TyperParameter", None)
    typers_own = TYPERS_OWN_GET_RUNTIME_PARAM
    if RuntimeParam is None or typers_own is None or getattr(parameter.get_runtime_param, "plain_str", False):
        return

    class Plain(RuntimeParam):  # RuntimeParam's own fields and methods: no @dataclass to build again at start
        """str and bool as given, a list of strs as a list; anything else through typer's own check,
        built only for a value that is given (an option left out is None and needs none)."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if type(value) is self.annotation:
                return value
            if self.annotation in _STR_LISTS and isinstance(value, (list, tuple)) and all(
                    type(item) is str for item in value):
                return list(value)
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)

    def get_runtime_param(self: Any) -> Any:
        described = self.type_descriptor
        if (self._runtime_param is None and described.file_annotation is None
                and described.parameter_info.parser is None):
            self._runtime_param = Plain(parameter_info=described.parameter_info, annotation=described.annotation)
        return typers_own(self)

    get_runtime_param.plain_str = True  # type: ignore[attr-defined]
    parameter.get_runtime_param = get_runtime_param


def root_command(app: Any) -> Any:
    """`app` as a click group whose sub-groups are built on first use (see the module's docstring)."""
    groups = {info.name: info for info in app.registered_groups}
    top = copy.copy(app)  # shallow: the app itself keeps its groups
    top.registered_groups = []
    root = typer.main.get_command(top)
    if type(root) not in (TyperGroup, *_LAZY_ROOTS) or not all(isinstance(name, str) for name in groups):
        return typer.main.get_command(app)  # a root class of its own, or a nameless group: build it all
    declared = getattr(root, "declared", {})
    root.__class__ = _LazyGroups
    root.lazy_groups, root.listing, root.declared = groups, False, declared
    return root


def lazy_group(commands: Any, base: type = TyperGroup) -> type:
    """A TyperGroup class (for `typer.Typer(cls=...)`) whose commands are `commands`, (name, "module:function",
    help) each, imported only when one is resolved; help and completion list them from the declarations."""
    group = type(f"Lazy{base.__name__}", (LazyCommands, base),
                 {"declared": {name: (target, help_) for name, target, help_ in commands}})
    if base is TyperGroup:  # root_command may swap its class for _LazyGroups (which keeps its declarations)
        _LAZY_ROOTS.add(group)
    return group


_LAZY_ROOTS: set[type] = set()


def load_command(name: str, target: str) -> Any:
    """The click command typer makes of the function `target` ("module:function"), named `name`."""
    module, _, function = target.partition(":")
    holder = typer.Typer(rich_markup_mode=None, add_completion=False)
    holder.command(name)(getattr(importlib.import_module(module), function))
    return typer.main.get_command(holder)


class LazyCommands(TyperGroup):
    """Commands declared by name; a command's module is imported when the command is resolved."""

    declared: dict[str, tuple[str, str]] = {}
    listing = False

    def list_commands(self, ctx: Any) -> list[str]:
        # typer's order: the commands as registered (here declared), then the groups added
        return list(self.declared) + [name for name in super().list_commands(ctx) if name not in self.declared]

    def get_command(self, ctx: Any, name: str) -> Any:
        if name in self.declared and name not in self.commands:
            target, help_ = self.declared[name]
            if self.listing:  # a line of help or a completion: the declared help, nothing imported
                return core.TyperCommand(name, help=help_)
            self.commands[name] = load_command(name, target)
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if not args or args[0] in self.commands or args[0] in self.declared:
            return super().resolve_command(ctx, args)
        commands = self.commands  # a typo: typer's "Did you mean" looks at self.commands' names
        self.commands = {**commands, **{name: None for name in self.declared if name not in commands}}
        try:
            return super().resolve_command(ctx, args)
        finally:
            self.commands = commands

    def get_help(self, ctx: Any) -> str:
        text = super().get_help(ctx)
        help_cache.printed(ctx.command_path, text)  # kept by `entry.run` if the command line asked for it
        return text

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        self.listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.listing = False

    def shell_complete(self, ctx: Any, incomplete: str) -> Any:
        self.listing = True
        try:
            return super().shell_complete(ctx, incomplete)
        finally:
            self.listing = False


def _group(info: Any, *, listing: bool) -> Any:
    """The click group typer makes of one `add_typer` entry; for a listing, without its commands."""
    if listing:
        info = copy.copy(info)
        info.typer_instance = copy.copy(info.typer_instance)
        info.typer_instance.registered_commands, info.typer_instance.registered_groups = [], []
    holder = typer.Typer(rich_markup_mode=None, add_completion=False)
    holder.registered_groups = [info]
    return typer.main.get_command(holder).commands[info.name]


class _LazyGroups(LazyCommands):
    lazy_groups: dict[str, Any]

    def list_commands(self, ctx: Any) -> list[str]:
        built = [name for name in super().list_commands(ctx) if name not in self.lazy_groups]
        return built + list(self.lazy_groups)

    def get_command(self, ctx: Any, name: str) -> Any:
        info = self.lazy_groups.get(name)
        if info is not None and name not in self.commands:
            if self.listing:  # `idflow --help` shows each group's help line, not its commands
                return _group(info, listing=True)
            self.commands[name] = _group(info, listing=False)
        return super().get_command(ctx, name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in self.commands and args[0] not in self.lazy_groups:
            for name in self.lazy_groups:  # a typo: typer's "Did you mean" looks at the built commands
                self.get_command(ctx, name)
        return super().resolve_command(ctx, args)
