"""`from idflow import worker_task`: the SDK's decorator plus the flat TaskDef keywords.

conductor-python's `worker_task` has no `**kwargs`, so a task file that writes
`retry_count=5` on it fails at import. This drop-in accepts the SDK's own keywords
and the TaskDef keywords of `idflow.model.fields.FIELDS`, builds a conductor `TaskDef`
from them and hands everything to the SDK's decorator. Workers never register
definitions (idflow uploads them), so `register_task_def` stays off unless the
task file asks for it. The SDK is imported only when the decorator is applied.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, TypeVar

from idflow.model.fields import FIELDS, TASKDEF_KEYWORDS, build
from idflow.model.validation import keyword_type_errors

F = TypeVar("F", bound=Callable[..., Any])

# The SDK 2.0 signature, in order: positional arguments after the name map onto these.
SDK_OPTIONS = ("poll_interval_millis", "domain", "worker_id", "thread_count", "register_task_def", "poll_timeout",
               "lease_extend_enabled", "task_def", "overwrite_task_def", "strict_schema", "register_schema")


def worker_task(task_definition_name: str | Callable | None = None, *args: Any, **keywords: Any) -> Any:
    """Decorate a worker function; usable as `@worker_task(...)` or bare `@worker_task`.

    The task name defaults to the function's name. Unknown keywords and wrongly
    typed TaskDef keywords raise TypeError at once, naming the keyword.
    """
    if callable(task_definition_name) and not args and not keywords:
        return _decorate(task_definition_name, None, {}, {})
    if task_definition_name is not None and not isinstance(task_definition_name, str):
        raise TypeError(f"worker_task() task_definition_name must be a string, got {task_definition_name!r}")
    if len(args) > len(SDK_OPTIONS):
        raise TypeError(f"worker_task() takes at most {len(SDK_OPTIONS) + 1} positional arguments")
    for option, value in zip(SDK_OPTIONS, args):
        if option in keywords:
            raise TypeError(f"worker_task() got multiple values for argument {option!r}")
        keywords[option] = value
    unknown = [k for k in keywords if k not in TASKDEF_KEYWORDS and k not in SDK_OPTIONS]
    if unknown:
        raise TypeError(f"worker_task() got an unexpected keyword argument {unknown[0]!r}; "
                        f"TaskDef keywords: {', '.join(sorted(TASKDEF_KEYWORDS))}")
    flat = {k: v for k, v in keywords.items() if k in TASKDEF_KEYWORDS}
    problems = keyword_type_errors(flat)
    if problems:
        raise TypeError(f"worker_task(): {'; '.join(problems)}")
    options = {k: v for k, v in keywords.items() if k in SDK_OPTIONS}

    def decorator(func: F) -> F:
        return _decorate(func, task_definition_name, flat, options)

    return decorator


def _decorate(func: Callable, name: str | None, flat: dict[str, Any], options: dict[str, Any]) -> Any:
    from conductor.client.worker.worker_task import worker_task as sdk_worker_task

    given = options.pop("task_def", None)
    from_def = taskdef_keywords(given) if given is not None else {}
    twice = sorted(set(from_def) & set(flat))
    if twice:
        raise TypeError(f"worker_task(): {', '.join(twice)} given both as keyword and in task_def; keep one")
    given_name = given.get("name") if isinstance(given, dict) else getattr(given, "name", None)
    task_name = name or given_name or func.__name__
    keywords = {**from_def, **flat}
    wire = build(task_name, keywords, func.__doc__)
    options["task_def"] = to_sdk_taskdef(wire)
    options.setdefault("register_task_def", False)
    accepted = inspect.signature(sdk_worker_task).parameters
    passed = {k: v for k, v in options.items() if k in accepted}
    wrapped = sdk_worker_task(task_name, **passed)(func)
    wrapped.__idflow_task_def__ = wire
    return wrapped


def taskdef_keywords(task_def: Any) -> dict[str, Any]:
    """The idflow-owned keywords set on an SDK TaskDef object (or a snake_case dict)."""
    if isinstance(task_def, dict):
        return {k: v for k, v in task_def.items() if k in TASKDEF_KEYWORDS and v is not None}
    values = {spec.keyword: getattr(task_def, spec.keyword, None) for spec in FIELDS}
    return {k: v for k, v in values.items() if v is not None}


def to_sdk_taskdef(wire: dict[str, Any]) -> Any:
    """A conductor `TaskDef` with every field of the wire definition (snake_case keywords)."""
    from conductor.client.http.models.task_def import TaskDef

    kwargs = {spec.keyword: wire[spec.wire] for spec in FIELDS if wire.get(spec.wire) is not None}
    return TaskDef(name=wire["name"], **kwargs)
