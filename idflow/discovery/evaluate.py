"""Static reading of decorator values: literals, module constants, simple arithmetic.

Task files are never imported, so a value is only known when it can be computed
from the source alone: literals, f-strings of those, `+ - * / // % **` and unary
minus on numbers, lists, and names bound at module level to such values (a name
resolves to its last plain assignment above the place that uses it). Anything
else raises `NotStatic`, whose message says what to write instead.
"""
from __future__ import annotations

import ast
import math
import operator
from dataclasses import dataclass, field
from typing import Any

MAX_DEPTH = 100
MAX_INT = 2 ** 63
MAX_STR = 10_000


class NotStatic(Exception):
    """A value that cannot be known without running the file."""

    def __init__(self, node: ast.AST, reason: str) -> None:
        super().__init__(reason)
        self.node = node
        self.reason = reason
        self.line = getattr(node, "lineno", 0)


@dataclass(frozen=True)
class TaskDefCall:
    """A `TaskDef(...)` call found in the source; its arguments are read later, one by one."""

    keywords: tuple[tuple[str | None, ast.expr], ...]  # None: a `**mapping` argument
    positional: int
    line: int


@dataclass
class Scope:
    """What a module binds at top level: constants, imports, and names that are not constant."""

    imports: dict[str, str] = field(default_factory=dict)              # local name -> dotted origin
    assigned: dict[str, list[tuple[int, ast.expr]]] = field(default_factory=dict)
    dynamic: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # name -> (line, why)

    def resolve(self, node: ast.expr) -> str | None:
        """Dotted origin of `a.b.c` through the module's imports, or None."""
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.imports:
            return None
        return ".".join([self.imports[node.id], *reversed(attrs)])


TASKDEF_ORIGINS = frozenset({"conductor.client.http.models.TaskDef",
                             "conductor.client.http.models.task_def.TaskDef"})
# What `from X import *` brings in, for the modules whose names matter here.
STAR_EXPORTS = {
    "idflow": ("worker_task",),
    "idflow.worker.decorator": ("worker_task",),
    "conductor.client.worker.worker_task": ("worker_task", "WorkerTask"),
    "conductor.client.http.models": ("TaskDef",),
    "conductor.client.http.models.task_def": ("TaskDef",),
}


def build_scope(tree: ast.Module) -> Scope:
    scope = Scope()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    scope.imports[alias.asname] = alias.name
                else:
                    top = alias.name.split(".")[0]
                    scope.imports[top] = top
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            for alias in node.names:
                if alias.name == "*":
                    for name in STAR_EXPORTS.get(module, ()):
                        scope.imports[name] = f"{module}.{name}"
                else:
                    scope.imports[alias.asname or alias.name] = f"{module}.{alias.name}"
    for stmt in tree.body:
        _collect_bindings(scope, stmt)
    return scope


def _collect_bindings(scope: Scope, stmt: ast.stmt) -> None:
    if isinstance(stmt, ast.Assign) and all(isinstance(t, ast.Name) for t in stmt.targets):
        for target in stmt.targets:
            scope.assigned.setdefault(target.id, []).append((stmt.lineno, stmt.value))
        return
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        if stmt.value is not None:
            scope.assigned.setdefault(stmt.target.id, []).append((stmt.lineno, stmt.value))
        return
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        scope.dynamic.setdefault(stmt.name, []).append((stmt.lineno, f"it is a {_kind(stmt)} defined on line {stmt.lineno}"))
        return
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        for alias in stmt.names:
            name = alias.asname or alias.name.split(".")[0]
            origin = "." * getattr(stmt, "level", 0) + (getattr(stmt, "module", None) or "")
            where = f"from {origin}" if isinstance(stmt, ast.ImportFrom) else "by an import"
            scope.dynamic.setdefault(name, []).append((stmt.lineno, f"it is imported {where} on line {stmt.lineno}"))
        return
    why = ("it is changed on line {line}" if isinstance(stmt, ast.AugAssign)
           else "it is assigned inside a block or by unpacking on line {line}")
    for node in ast.walk(stmt):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            scope.dynamic.setdefault(node.id, []).append((stmt.lineno, why.format(line=stmt.lineno)))


def _kind(stmt: ast.stmt) -> str:
    return "class" if isinstance(stmt, ast.ClassDef) else "function"


_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}


def evaluate(node: ast.expr, scope: Scope, line: int, depth: int = 0) -> Any:
    """The value of `node` as used on `line`; raises NotStatic."""
    if depth > MAX_DEPTH:
        raise NotStatic(node, "the expression is nested too deeply to read; simplify it")
    if isinstance(node, ast.Constant):
        return _bounded(node, node.value)
    if isinstance(node, ast.Name):
        return _lookup(node, scope, line, depth)
    if isinstance(node, ast.UnaryOp):
        value = evaluate(node.operand, scope, line, depth + 1)
        if isinstance(node.op, ast.Not):
            return not value
        if isinstance(node.op, (ast.USub, ast.UAdd)) and _is_number(value):
            return -value if isinstance(node.op, ast.USub) else +value
        raise NotStatic(node, "only numbers can be negated")
    if isinstance(node, ast.BinOp):
        return _binop(node, evaluate(node.left, scope, line, depth + 1),
                      evaluate(node.right, scope, line, depth + 1))
    if isinstance(node, (ast.List, ast.Tuple)):
        if any(isinstance(e, ast.Starred) for e in node.elts):
            raise NotStatic(node, "`*` unpacking cannot be read statically; write the items out")
        return [evaluate(e, scope, line, depth + 1) for e in node.elts]
    if isinstance(node, ast.Dict):
        if any(k is None for k in node.keys):
            raise NotStatic(node, "`**` inside a dict cannot be read statically; write the items out")
        return {evaluate(k, scope, line, depth + 1): evaluate(v, scope, line, depth + 1)
                for k, v in zip(node.keys, node.values)}
    if isinstance(node, ast.JoinedStr):
        return "".join(_fstring_part(p, scope, line, depth + 1) for p in node.values)
    if isinstance(node, ast.Call) and scope.resolve(node.func) in TASKDEF_ORIGINS:
        keywords = tuple((k.arg, k.value) for k in node.keywords)
        return TaskDefCall(keywords=keywords, positional=len(node.args), line=node.lineno)
    raise NotStatic(node, "it is computed when the file runs")


def _lookup(node: ast.Name, scope: Scope, line: int, depth: int) -> Any:
    name = node.id
    before = [(ln, value) for ln, value in scope.assigned.get(name, ()) if ln < line]
    changes = [(ln, why) for ln, why in scope.dynamic.get(name, ()) if ln < line]
    last_assigned = before[-1][0] if before else -1
    later_changes = [why for ln, why in changes if ln >= last_assigned]
    if later_changes:
        raise NotStatic(node, f"`{name}` is not a constant: {later_changes[-1]}")
    if not before:
        if name in scope.imports:
            raise NotStatic(node, f"`{name}` is imported; idflow only reads constants defined in the same file")
        raise NotStatic(node, f"`{name}` is not assigned above this line at module level")
    ln, value = before[-1]
    return evaluate(value, scope, ln, depth + 1)


def _fstring_part(part: ast.expr, scope: Scope, line: int, depth: int) -> str:
    if isinstance(part, ast.Constant):
        return str(part.value)
    if isinstance(part, ast.FormattedValue) and part.conversion == -1 and part.format_spec is None:
        value = evaluate(part.value, scope, line, depth)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
    raise NotStatic(part, "only plain {NAME} placeholders of constants can be read in an f-string")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _binop(node: ast.BinOp, left: Any, right: Any) -> Any:
    op = _BINOPS.get(type(node.op))
    if op is None:
        raise NotStatic(node, "only + - * / // % ** can be read statically")
    if _is_number(left) and _is_number(right):
        if isinstance(node.op, ast.Pow) and (not isinstance(right, int) or not 0 <= right <= 64
                                              or abs(left) > 2 ** 16):
            raise NotStatic(node, "this power is too large to read statically; write the number out")
        try:
            result = op(left, right)
        except (ZeroDivisionError, OverflowError) as exc:
            raise NotStatic(node, f"it fails: {exc}") from None
        return _bounded(node, result)
    if isinstance(node.op, ast.Add) and type(left) is type(right) and isinstance(left, (str, list)):
        if len(left) + len(right) > MAX_STR:
            raise NotStatic(node, "the value is too long")
        return left + right
    raise NotStatic(node, f"cannot compute {type(left).__name__} {_symbol(node.op)} {type(right).__name__} statically")


def _bounded(node: ast.AST, value: Any) -> Any:
    """A number every later step can print and send: an int within 2**63, a finite float."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise NotStatic(node, "the number is too large (over 2**63): no TaskDef field holds it")
    if isinstance(value, float) and not math.isfinite(value):
        raise NotStatic(node, f"{value} is not a finite number: JSON and Conductor have no NaN or Infinity")
    return value


def _symbol(op: ast.operator) -> str:
    return {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//",
            ast.Mod: "%", ast.Pow: "**"}.get(type(op), "?")


def source_of(node: ast.AST, limit: int = 60) -> str:
    """Short source text of a node for messages."""
    try:
        text = ast.unparse(node)
    except (RecursionError, ValueError):
        text = "<expression>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
