"""Read one task file's source (bytes) into plain data, without importing it.

`parse_source` is a pure function of the file's content: its result (JSON-able)
depends on nothing else, which is what lets discovery cache it by content hash.
Paths are attached by the caller.

Result: {"tasks": [task...], "issues": [[line, message, severity], ...]} where a task
is {"name", "function", "line", "form", "keywords", "worker_options", "docstring",
"problems": [[line, message], ...]}; `problems` are read errors that make the task's
definition unusable (the task is still listed so nothing treats it as deleted).
"""
from __future__ import annotations

import ast
import difflib
import io
import re
import tokenize
from typing import Any

from idflow.discovery.evaluate import NotStatic, Scope, TaskDefCall, build_scope, evaluate, source_of
from idflow.model.fields import TASKDEF_KEYWORDS
from idflow.model.validation import keyword_type_errors
from idflow.discovery.parsed import MAX_FILE_BYTES, NESTED_TASK

USE_IDFLOW = "use `from idflow import worker_task`"
INTERNAL_ERROR = "internal error:"
UTF8_BOM = b"\xef\xbb\xbf"

SDK_PARAMS = ("task_definition_name", "poll_interval_millis", "domain", "worker_id", "thread_count",
              "register_task_def", "poll_timeout", "lease_extend_enabled", "task_def", "overwrite_task_def",
              "strict_schema", "register_schema")
LEGACY_PARAMS = ("task_definition_name", "poll_interval", "domain", "worker_id", "poll_interval_seconds",
                 "thread_count", "register_task_def", "poll_timeout", "lease_extend_enabled", "register_schema")
WORKER_OPTIONS = ("poll_interval_millis", "domain", "thread_count", "worker_id", "poll_timeout",
                  "lease_extend_enabled")
# TaskDef.__init__ parameters of conductor-python 2.0 (a test checks this against the SDK).
SDK_TASKDEF_PARAMS = frozenset({
    "owner_app", "create_time", "update_time", "created_by", "updated_by", "name", "description", "retry_count",
    "timeout_seconds", "input_keys", "output_keys", "timeout_policy", "retry_logic", "retry_delay_seconds",
    "response_timeout_seconds", "concurrent_exec_limit", "input_template", "rate_limit_per_frequency",
    "rate_limit_frequency_in_seconds", "isolation_group_id", "execution_name_space", "owner_email",
    "poll_timeout_seconds", "backoff_scale_factor", "input_schema", "output_schema", "enforce_schema",
    "base_type", "total_timeout_seconds", "runtime_metadata"})

SDK_MODULE = "conductor.client.worker.worker_task"
# dotted origin -> (form, positional parameter order)
DECORATORS: dict[str, tuple[str, tuple[str, ...]]] = {
    "idflow.worker_task": ("idflow", SDK_PARAMS),
    "idflow.worker.decorator.worker_task": ("idflow", SDK_PARAMS),
    f"{SDK_MODULE}.worker_task": ("seed", SDK_PARAMS),
    f"{SDK_MODULE}.WorkerTask": ("seed", LEGACY_PARAMS),
    SDK_MODULE: ("seed", SDK_PARAMS),  # the module itself: not callable, reported below
}
DECORATOR_NAMES = ("worker_task", "WorkerTask")


def parse_source(data: bytes) -> dict[str, Any]:
    """Tasks and issues of one file's content."""
    result: dict[str, Any] = {"tasks": [], "issues": []}
    if len(data) > MAX_FILE_BYTES:
        result["issues"].append([0, f"file is {len(data) / 1e6:.1f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit "
                                    "for task files; move data out of the source file", "error"])
        return result
    text, problem = decode(data)
    if problem:
        result["issues"].append([problem[0], problem[1], "error"])
        return result
    if not text.strip():
        return result
    try:
        tree = ast.parse(text)
        scope = build_scope(tree)
        _read_tree(tree, scope, result)
    except SyntaxError as exc:
        result["issues"].append([exc.lineno or 0, f"syntax error: {exc.msg}; fix the file so Python can parse it "
                                                   "(idflow reads task files without importing them)", "error"])
    except ValueError as exc:  # e.g. NUL bytes on some Python versions
        result["issues"].append([0, f"syntax error: {exc}; fix the file so Python can parse it", "error"])
    except (RecursionError, MemoryError):
        result["tasks"] = []
        result["issues"].append([0, "an expression is nested too deeply to read (Python's parser gave up); "
                                    "simplify or split it", "error"])
    except Exception as exc:  # a bug in idflow must not hide the other files' tasks
        result["tasks"] = []
        result["issues"].append([0, f"idflow failed to read this file ({INTERNAL_ERROR} {type(exc).__name__}: "
                                    f"{exc}); please report it with the file", "error"])
    return result


def decode(data: bytes) -> tuple[str, tuple[int, str] | None]:
    """Source text honouring a BOM and a coding cookie, or (line, message) when it cannot be decoded."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        if data.startswith(UTF8_BOM):
            return "", (1, "the file starts with a UTF-8 byte order mark but its coding line names another "
                           "encoding; remove the coding line or the mark")
        return "", (getattr(exc, "lineno", None) or 1, f"cannot tell the file's encoding: {exc.msg}; save it as "
                                                       "UTF-8 (a coding line must name a known encoding)")
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = data[exc.start: exc.start + 1].hex()
        return "", (line, f"file is not valid {encoding} (byte 0x{byte} on line {line}); save it as UTF-8 "
                          "or declare its encoding with a `# -*- coding: latin-1 -*-` first line")


def _read_tree(tree: ast.Module, scope: Scope, result: dict[str, Any]) -> None:
    functions = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
    nested = {id(inner) for outer in ast.walk(tree) if isinstance(outer, functions)
              for inner in ast.walk(outer) if inner is not outer}
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if id(node) in nested:  # e.g. a test defining a task inside a test function
            if any(scope.resolve(d.func if isinstance(d, ast.Call) else d) in DECORATORS for d in node.decorator_list):
                result["issues"].append([node.lineno, f"{node.name} {NESTED_TASK}worker imports the file: it is "
                                                      "not read as a task; move it to module level", "warning"])
            continue
        for dec in node.decorator_list:
            call = dec if isinstance(dec, ast.Call) else None
            target = call.func if call else dec
            origin = scope.resolve(target)
            if origin not in DECORATORS:
                _unknown_decorator(target, origin, scope, result)
                continue
            form, params = DECORATORS[origin]
            if origin == SDK_MODULE:
                result["issues"].append([dec.lineno, f"`{source_of(target)}` is the module {SDK_MODULE}, not the "
                                         "decorator: calling it fails at import when the worker starts; "
                                         f"{USE_IDFLOW}", "warning"])
            if call is None and form != "idflow":
                result["issues"].append([dec.lineno, f"@{source_of(target)} needs arguments: the SDK's decorator "
                                         f"must be called, e.g. @worker_task(task_definition_name='{node.name}'); "
                                         f"{USE_IDFLOW}", "error"])
                continue
            task = _read_decorator(node, dec.lineno, call, form, params, scope, result["issues"])
            if task is not None:
                result["tasks"].append(task)


def _unknown_decorator(target: ast.expr, origin: str | None, scope: Scope, result: dict[str, Any]) -> None:
    """Say so when something named like worker_task is not one idflow can read (no silent skip)."""
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
    if name not in DECORATOR_NAMES:
        return
    line = target.lineno
    if origin is not None:
        result["issues"].append([line, f"@{source_of(target)} comes from {origin}, not from idflow or the Conductor "
                                       f"SDK: idflow cannot read it; {USE_IDFLOW}", "warning"])
    elif isinstance(target, ast.Name) and (target.id in scope.assigned or target.id in scope.dynamic):
        result["issues"].append([line, f"@{target.id} is defined in this file, not imported from idflow or the "
                                       f"Conductor SDK: idflow cannot read it; {USE_IDFLOW}", "warning"])
    elif isinstance(target, ast.Name):
        result["issues"].append([line, f"@{target.id} is used but never imported: the file fails at import; "
                                       f"add `from idflow import worker_task`", "error"])


def _read_decorator(func: ast.FunctionDef | ast.AsyncFunctionDef, line: int, call: ast.Call | None, form: str,
                    params: tuple[str, ...], scope: Scope, issues: list) -> dict[str, Any] | None:
    problems: list[list[Any]] = []
    arguments = _arguments(call, params, scope, line, problems) if call else {}
    name: Any = None
    taskdef_name: str | None = None
    keywords: dict[str, Any] = {}
    options: dict[str, Any] = {}
    flat_taskdef: list[str] = []
    name_unreadable = False
    for keyword, node in sorted(arguments.items(), key=lambda item: item[0] == "task_def"):
        if keyword == "task_definition_name":
            before = len(problems)
            name = _value(node, keyword, scope, line, problems)
            name_unreadable = len(problems) > before
        elif keyword in TASKDEF_KEYWORDS:
            flat_taskdef.append(keyword)
            _read_keyword(keyword, node, scope, line, keywords, problems)
        elif keyword == "task_def":
            taskdef_name = _read_taskdef(node, scope, line, keywords, problems, issues)
        elif keyword in params:
            _read_option(keyword, node, scope, line, options, issues)
        else:
            problems.append([node.lineno, _unknown_message(keyword, params)])
    if form == "seed" and "task_def" in arguments:
        form = "sdk"
    if form != "idflow" and flat_taskdef:
        issues.append([line, f"the SDK's worker_task does not accept {', '.join(flat_taskdef)}: it fails at import "
                             f"when the worker starts; {USE_IDFLOW} (same keywords)", "warning"])
    if "task_definition_name" not in arguments:
        name = taskdef_name or func.name
        if form != "idflow":
            issues.append([line, f"the SDK's worker_task requires task_definition_name: it fails at import when the "
                                 f"worker starts; add task_definition_name='{name}' or {USE_IDFLOW}", "warning"])
    if not isinstance(name, str) or not name:
        if not name_unreadable:
            problems.append([line, f"task_definition_name must be a non-empty string, got {name!r}; name the task, "
                                   f"e.g. task_definition_name='{func.name}'"])
        # Without a name there is no task to list: its problems become file errors.
        issues.extend([ln, msg, "error"] for ln, msg in problems)
        return None
    yielded = _yield_line(func)
    if yielded is not None:
        kind = "an async generator" if isinstance(func, ast.AsyncFunctionDef) else "a generator"
        problems.append([yielded, f"{func.name} is {kind} (it uses yield): the worker would report its generator "
                                  "object, never running the body; return the output (a dict) instead"])
    if taskdef_name is not None and taskdef_name != name:
        issues.append([line, f"TaskDef(name={taskdef_name!r}) differs from task_definition_name {name!r}; "
                             f"{name!r} is used: drop name= from TaskDef", "warning"])
    return {"name": name, "function": func.name, "line": line, "form": form, "keywords": keywords,
            "worker_options": options, "docstring": ast.get_docstring(func), "problems": problems}


def _yield_line(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int | None:
    """The line of a `yield` in the function's own body (not in a nested function or class)."""
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return node.lineno
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))
    return None


def _arguments(call: ast.Call, params: tuple[str, ...], scope: Scope, line: int,
               problems: list) -> dict[str, ast.expr]:
    arguments: dict[str, ast.expr] = {}
    for index, arg in enumerate(call.args):
        if isinstance(arg, ast.Starred):
            problems.append([arg.lineno, f"*{source_of(arg.value)} cannot be read statically; write the arguments out"])
        elif index < len(params):
            arguments[params[index]] = arg
        else:
            problems.append([arg.lineno, f"too many positional arguments ({len(call.args)}); pass keywords"])
            break
    for kw in call.keywords:
        if kw.arg is not None:
            if kw.arg in arguments:
                problems.append([kw.value.lineno, f"{kw.arg} is given twice; keep one"])
            arguments[kw.arg] = kw.value
            continue
        for key, node in _expand_mapping(kw.value, scope, line, problems).items():
            arguments.setdefault(key, node)
    return arguments


def _expand_mapping(node: ast.expr, scope: Scope, line: int, problems: list) -> dict[str, ast.expr]:
    """`**{...}` / `**CONSTANT_DICT` as keyword nodes (values stay nodes so each is read on its own)."""
    if isinstance(node, ast.Name):
        for ln, value in reversed(scope.assigned.get(node.id, [])):
            if ln < line and isinstance(value, ast.Dict) and not scope.dynamic.get(node.id):
                node = value
                break
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) and isinstance(k.value, str) for k in node.keys):
        return {k.value: v for k, v in zip(node.keys, node.values)}
    problems.append([node.lineno, f"**{source_of(node)} cannot be read statically; write the keywords out"])
    return {}


def _value(node: ast.expr, keyword: str, scope: Scope, line: int, problems: list) -> Any:
    try:
        return evaluate(node, scope, line)
    except NotStatic as exc:
        problems.append([exc.line or node.lineno,
                         f"{keyword}={source_of(node)} cannot be read without running the file ({exc.reason}); "
                         "use a literal or a constant assigned at module level (e.g. RETRIES = 5)"])
    except RecursionError:
        problems.append([node.lineno, f"{keyword}= is nested too deeply to read; simplify the expression"])
    return None


def _read_keyword(keyword: str, node: ast.expr, scope: Scope, line: int, keywords: dict, problems: list) -> None:
    before = len(problems)
    value = _value(node, keyword, scope, line, problems)
    if len(problems) > before:
        return
    if isinstance(value, TaskDefCall):
        problems.append([node.lineno, f"{keyword} must be a plain value, not a TaskDef"])
        return
    keywords[keyword] = value
    for message in keyword_type_errors({keyword: value}):
        problems.append([node.lineno, f"{message}; fix the value in the decorator"])


def _read_option(keyword: str, node: ast.expr, scope: Scope, line: int, options: dict, issues: list) -> None:
    """Worker options are not part of the TaskDef: unreadable ones are warnings."""
    try:
        value = evaluate(node, scope, line)
    except (NotStatic, RecursionError):
        if keyword in WORKER_OPTIONS or keyword in ("poll_interval", "poll_interval_seconds"):
            issues.append([node.lineno, f"{keyword}={source_of(node)} cannot be read statically; idflow shows it as "
                                        "unknown (the worker still reads it)", "warning"])
        return
    if keyword == "register_task_def" and value:
        issues.append([node.lineno, "register_task_def=True makes the worker register its own definition; idflow "
                                    "uploads definitions (`idflow tasks upload`) and `idflow worker start` keeps "
                                    "registration off: remove it", "warning"])
    elif keyword == "poll_interval":
        options["poll_interval_millis"] = value
    elif keyword == "poll_interval_seconds":
        if isinstance(value, (int, float)) and value > 0:
            options["poll_interval_millis"] = 1000 * value
    elif keyword in WORKER_OPTIONS:
        options[keyword] = value


def _read_taskdef(node: ast.expr, scope: Scope, line: int, keywords: dict, problems: list,
                  issues: list) -> str | None:
    value = _value(node, "task_def", scope, line, problems)
    if value is None:
        return None
    if not isinstance(value, TaskDefCall):
        problems.append([node.lineno, "task_def must be TaskDef(...) (from conductor.client.http.models), written in "
                                      "place or assigned to a module-level constant"])
        return None
    if value.positional:
        problems.append([value.line, "TaskDef(...) takes keywords only here (positional arguments cannot be "
                                     "matched safely); write name=..., retry_count=..."])
    name = None
    for keyword, arg in value.keywords:
        if keyword is None:
            problems.append([arg.lineno, f"TaskDef(**{source_of(arg)}) cannot be read statically; "
                                         "write the keywords out"])
        elif keyword == "name":
            name_value = _value(arg, "name", scope, line, problems)
            name = name_value if isinstance(name_value, str) else None
        elif keyword in TASKDEF_KEYWORDS:
            if keyword in keywords:
                problems.append([arg.lineno, f"{keyword} is given both in the decorator and in TaskDef(...); keep one"])
            _read_keyword(keyword, arg, scope, line, keywords, problems)
        elif keyword in SDK_TASKDEF_PARAMS:
            issues.append([arg.lineno, f"TaskDef({keyword}=...) is not managed by idflow and is ignored: idflow "
                                       "never uploads it; set it on the server or remove it", "warning"])
        else:
            problems.append([arg.lineno, _unknown_message(keyword, tuple(SDK_TASKDEF_PARAMS), "TaskDef")])
    return name


def _unknown_message(keyword: str, params: tuple[str, ...], where: str = "worker_task") -> str:
    known = sorted(TASKDEF_KEYWORDS | set(params) - {"task_definition_name"}) if where == "worker_task" \
        else sorted(TASKDEF_KEYWORDS | {"name"})
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", keyword).lower()
    if snake != keyword and snake in known:
        hint = f"TaskDef keywords are snake_case: write {snake}="
    else:
        close = difflib.get_close_matches(keyword, known, n=1)
        hint = f"did you mean {close[0]}=?" if close else f"known keywords: {', '.join(known)}"
    return f"unknown keyword {keyword!r} for {where}: {hint}"
