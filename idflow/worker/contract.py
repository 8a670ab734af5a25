"""How `idflow worker start` calls a task function, and what becomes the task's output.

One rule, read from the function's signature once, when the worker starts:

- a single positional parameter that is unannotated, or annotated `dict`, `Mapping`
  (also `dict[str, Any]`, `Any`, `object`), receives the whole input dict;
- a parameter annotated `Task` receives the SDK's `Task`;
- every other parameter is filled from the input key of its name, its default
  applying when the key is missing; a required parameter whose key is missing
  fails the task with a terminal error (FAILED_WITH_TERMINAL_ERROR: a retry
  would get the same input) naming the key;
- `**kwargs` receives the input keys no named parameter took; `*args` receives
  nothing;
- a dataclass annotation is built from the key's dict; other values arrive as
  the JSON gave them (no conversion of `int`, `str`...);
- `async def` functions are awaited on the SDK's background event loop.

Output: a dict is the output; None is an empty output; a list or a scalar is
`{"result": value}` (the SDK's rule); a `TaskResult` or `TaskInProgress` is handed
to the SDK with its output converted. Every output is made JSON by the rule of
`idflow.worker.output` (datetime to ISO 8601, a set to a sorted list; NaN, bytes and
other objects refused: the task ends FAILED with a reason naming the key).

A generator or async generator function is refused when the worker starts (and by
discovery): the SDK would report the generator object, never running the body.

The decorated function itself is never changed, so it stays directly callable
(`my_task({'input': 'test'})`): the adapter is made here, when the worker starts.
"""
from __future__ import annotations

import dataclasses
import inspect
import logging
import time
import typing
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable

from conductor.client.http.models.task import Task
from conductor.client.worker.exception import NonRetryableException

from idflow.worker.output import check_size, json_output

log = logging.getLogger("idflow.worker.pool")
WHOLE_INPUT, TASK, KEY = "input", "task", "key"
_INPUT_NAMES = frozenset({"dict", "Dict", "Mapping", "MutableMapping", "Any", "object"})
_INPUT_TYPES = (dict, Mapping, MutableMapping, typing.Dict, typing.Mapping, typing.MutableMapping)


class ContractError(TypeError):
    """The function's signature fits no form of the contract (found when the worker starts)."""


@dataclass(frozen=True)
class Param:
    """One parameter of a task function, and what fills it: the whole input, the SDK's Task, or an input key."""
    name: str
    source: str                 # WHOLE_INPUT | TASK | KEY
    required: bool
    default: Any = None
    positional_only: bool = False
    build: type | None = None   # a dataclass to build from the key's dict


@dataclass(frozen=True)
class Contract:
    """How a worker calls one task function: its parameters, any **kwargs, and whether it is async."""
    function: str
    params: tuple[Param, ...]
    extra: str | None = None    # the **kwargs parameter, when there is one
    is_async: bool = False

    @property
    def form(self) -> str:
        """"input" | "task" | "keys" | "none": how a person would describe it."""
        sources = {p.source for p in self.params}
        if sources == {WHOLE_INPUT}:
            return "input"
        if sources == {TASK}:
            return "task"
        return "keys" if self.params or self.extra else "none"


def contract_of(func: Callable[..., Any]) -> Contract:
    """The contract for `func`; ContractError when its signature cannot be served."""
    name = getattr(func, "__qualname__", repr(func))
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise ContractError(f"{name}: cannot read its signature: {exc}") from None
    hints = _hints(func)
    named = [p for p in signature.parameters.values() if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    extra = next((p.name for p in signature.parameters.values() if p.kind == p.VAR_KEYWORD), None)
    params = []
    for parameter in named:
        annotation = hints.get(parameter.name, parameter.annotation)
        if isinstance(annotation, str):  # unresolved; under `from __future__ import annotations` maybe quoted twice
            annotation = annotation.strip("'\" ")
        required = parameter.default is parameter.empty
        common = dict(required=required, default=None if required else parameter.default,
                      positional_only=parameter.kind == parameter.POSITIONAL_ONLY)
        if _is_task(annotation, Task):
            params.append(Param(parameter.name, TASK, **common))
        elif len(named) == 1 and extra is None and parameter.kind != parameter.KEYWORD_ONLY \
                and _is_whole_input(annotation, parameter.empty):
            params.append(Param(parameter.name, WHOLE_INPUT, **common))
        else:
            build = annotation if isinstance(annotation, type) and dataclasses.is_dataclass(annotation) else None
            params.append(Param(parameter.name, KEY, build=build, **common))
    plain = inspect.unwrap(func)
    if inspect.isgeneratorfunction(plain) or inspect.isasyncgenfunction(plain):
        kind = "an async generator" if inspect.isasyncgenfunction(plain) else "a generator"
        raise ContractError(f"{name} is {kind} function (it uses yield): idflow does not run generators; "
                            "return the output (a dict) instead")
    if sum(p.source == TASK for p in params) > 1:
        raise ContractError(f"{name}: more than one parameter is annotated Task; keep one")
    return Contract(name, tuple(params), extra, inspect.iscoroutinefunction(inspect.unwrap(func)))


def _hints(func: Callable[..., Any]) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func)
    except Exception:  # an annotation naming something not importable: fall back to the raw (string) ones
        return {}


def _is_task(annotation: Any, task_type: type) -> bool:
    if isinstance(annotation, str):
        return annotation.rsplit(".", 1)[-1] == "Task"
    return isinstance(annotation, type) and issubclass(annotation, task_type)


def _is_whole_input(annotation: Any, empty: Any) -> bool:
    if annotation is empty or annotation is Any or annotation is object:
        return True
    if isinstance(annotation, str):  # an annotation get_type_hints could not resolve
        return annotation.split("[", 1)[0].strip().rsplit(".", 1)[-1] in _INPUT_NAMES
    origin = typing.get_origin(annotation) or annotation
    return origin in _INPUT_TYPES


class MissingInput(Exception):
    """A required parameter has no input key of its name."""


def arguments(contract: Contract, task: Any) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments for one task; MissingInput names the keys missing."""
    data = task.input_data if isinstance(getattr(task, "input_data", None), dict) else {}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    missing = []
    for param in contract.params:
        if param.source == WHOLE_INPUT:
            value = data
        elif param.source == TASK:
            value = task
        elif param.name in data:
            value = data[param.name]
            if param.build is not None and isinstance(value, dict):
                value = _build(param.build, value)
        elif param.required:
            missing.append(param.name)
            continue
        else:
            value = param.default
        if param.positional_only:
            args.append(value)
        else:
            kwargs[param.name] = value
    if missing:
        given = ", ".join(sorted(map(str, data))) or "none"
        raise MissingInput(f"{contract.function}: the task input has no key {', '.join(map(repr, missing))} "
                           f"(a required parameter); input keys: {given}")
    if contract.extra is not None:
        taken = {p.name for p in contract.params}
        kwargs.update({k: v for k, v in data.items() if isinstance(k, str) and k not in taken})
    return args, kwargs


def _build(cls: type, value: dict[str, Any]) -> Any:
    fields = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: v for k, v in value.items() if k in fields})


def to_output(value: Any, function: str = "task") -> Any:
    """What the SDK gets back: None becomes {}, a dict its JSON form, anything else `{"result": ...}` (the SDK's
    rule); a TaskResult or TaskInProgress is handed on with its output converted. The conversion is
    `idflow.worker.output`'s: OutputRefused (the task ends FAILED) names what cannot be JSON."""
    kind = type(value).__name__
    if value is None:
        return {}
    if kind in ("TaskResult", "TaskInProgress"):
        attribute = "output_data" if kind == "TaskResult" else "output"
        data = getattr(value, attribute, None)
        if data is not None:
            setattr(value, attribute, json_output(data))
            check_size(getattr(value, attribute), function)
        return value
    output = json_output(value) if isinstance(value, dict) else {"result": json_output(value, "result")}
    check_size(output, function)
    return output


def adapt(func: Callable[..., Any]) -> Callable[..., Any]:
    """A worker function the SDK calls with the `Task`; it calls `func` by the contract.

    Its signature is `(task: Task)`, so the SDK hands over the Task whatever `func` looks like.
    """
    contract = contract_of(func)

    def call(task: Task) -> Any:
        started = time.monotonic()
        try:
            args, kwargs = arguments(contract, task)
        except MissingInput as exc:
            log_execution(task, TERMINAL_ERROR, started)
            raise NonRetryableException(str(exc)) from None
        with _logged_failure(task, started):
            result = func(*args, **kwargs)
            if inspect.iscoroutine(result):
                return _awaited(result, task, started, contract.function)
            output = to_output(result, contract.function)
        log_execution(task, outcome_of(output), started)
        return output

    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter("task", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Task)])
    call.__name__ = getattr(func, "__name__", "task")
    call.__qualname__ = getattr(func, "__qualname__", call.__name__)
    call.__doc__ = func.__doc__
    call.__idflow_contract__ = contract  # type: ignore[attr-defined]
    return call


async def _awaited(coroutine: Any, task: Any, started: float, function: str) -> Any:
    with _logged_failure(task, started):
        output = to_output(await coroutine, function)
    log_execution(task, outcome_of(output), started)
    return output


# ---- one log line per execution ------------------------------------------------------------
TERMINAL_ERROR = "FAILED_WITH_TERMINAL_ERROR"


def outcome_of(output: Any) -> str:
    """The status the SDK will report for what the function returned."""
    status = getattr(output, "status", None)
    if status is not None and type(output).__name__ == "TaskResult":
        return str(getattr(status, "value", status))
    return "IN_PROGRESS" if type(output).__name__ == "TaskInProgress" else "COMPLETED"


def log_execution(task: Any, outcome: str, started: float) -> None:
    log.info("task %s id %s: %s in %.3f s", getattr(task, "task_def_name", None) or "?",
             getattr(task, "task_id", None) or "?", outcome, time.monotonic() - started)


@contextmanager
def _logged_failure(task: Any, started: float) -> Iterator[None]:
    """Log a raised exception as the failure the SDK will report (a NonRetryableException: terminal)."""
    try:
        yield
    except Exception as exc:
        log_execution(task, TERMINAL_ERROR if type(exc).__name__ == "NonRetryableException" else "FAILED", started)
        raise
