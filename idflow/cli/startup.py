"""Start-up cost of the CLI: what typer would import that a command does not need.

Every `idflow` command pays for its imports before it does anything, so the local commands
(`--help`, `tasks list --local`, `tasks new`) are mostly start-up. Two costs come from typer:
- with rich installed, typer renders help through `typer.rich_utils`, which imports rich's
  console, markdown, traceback and pretty-printer (with attrs): ~0.1 s, more than the rest of
  `idflow --help`. The help is click's plain layout instead, as git, kubectl and terraform print it.
- typer 0.2x checks every option value with a pydantic TypeAdapter, built on first use. The
  root options (`--config`, `--server-url`, ...) are `str`, so every command imported pydantic
  (~60 ms with its plugin loader). A `str` value needs no check (click hands over argv strings),
  nor does a flag's `bool`, or the None of an option not given.
Both are switched on by `app.py`; `tests/test_startup_imports.py` fails when either stops working.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


def plain_help(app: Any) -> None:
    """Help and usage in click's layout for `app` and every group under it (no rich import)."""
    app.rich_markup_mode = None
    for group in app.registered_groups:
        if group.typer_instance is not None:
            plain_help(group.typer_instance)


def plain_values_without_pydantic() -> None:
    """Let `str` and `bool` values skip typer's pydantic adapter; anything else still goes through it.

    Uses typer internals (`typer.core._TyperParameter`, `typer._coercion`): with a typer that has
    none, this does nothing and only start-up is slower.
    """
    try:
        from typer import core
        from typer._coercion import RuntimeParam, build_runtime_param
    except ImportError:  # pragma: no cover - a typer without pydantic coercion
        return
    parameter = getattr(core, "_TyperParameter", None)
    typers_own = getattr(parameter, "get_runtime_param", None)
    if typers_own is None or getattr(typers_own, "plain_str", False):
        return

    @dataclass(frozen=True)
    class Plain(RuntimeParam):
        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            if type(value) is self.annotation:
                return value
            return build_runtime_param(param.type_descriptor)._coerce_value(value, param=param, ctx=ctx)

    def get_runtime_param(self: Any) -> Any:
        described = self.type_descriptor
        if (self._runtime_param is None and described.annotation in (str, bool)
                and described.file_annotation is None and described.parameter_info.parser is None):
            self._runtime_param = Plain(parameter_info=described.parameter_info, annotation=described.annotation)
        return typers_own(self)

    get_runtime_param.plain_str = True  # type: ignore[attr-defined]
    parameter.get_runtime_param = get_runtime_param
