"""Rewrite a task file's decorator keywords in place, keeping every other byte (libcst).

The groundwork of `tasks pull` (bidirectional sync): a server edit comes back into the code as
new literal values of the `@worker_task(...)` keywords. Comments, formatting, keyword order, other
decorators and the function body stay exactly as written. A keyword whose value in the code is not
a literal (a constant, an expression, `**kwargs`, a settings object) cannot be rewritten without
guessing: it is refused, naming the keyword and why. Never a regex, never an `ast` round trip.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

import libcst as cst

from idflow.base.errors import IdflowError

DECORATORS = ("worker_task",)   # the names discovery accepts, aliases resolved by the caller


class RewriteRefused(IdflowError):
    exit_code = 3


@dataclass(frozen=True)
class KeywordEdit:
    keyword: str          # decorator keyword (snake_case), e.g. "retry_count"
    value: Any            # the new value: a JSON scalar or list of them


def rewrite_keywords(source: str, task_name: str, edits: list[KeywordEdit], *,
                     decorator_names: tuple[str, ...] = DECORATORS) -> str:
    """`source` with the keywords of the decorator that declares `task_name` set to the edits' values.

    A keyword missing from the call is added at its end, in the call's own style. Raises
    RewriteRefused when the task is not found, is declared twice, or a keyword to change holds
    something other than a literal.
    """
    module = cst.parse_module(source)
    aliases = _Aliases(decorator_names)
    module.visit(aliases)
    finder = _Finder(task_name, decorator_names + tuple(aliases.names))
    module.visit(finder)
    if not finder.calls:
        raise RewriteRefused(f"no @worker_task declaring {task_name!r} in this file")
    if len(finder.calls) > 1:
        raise RewriteRefused(f"{task_name!r} is declared {len(finder.calls)} times in this file")
    call = finder.calls[0]
    problems = _problems(call, edits)
    if problems:
        raise RewriteRefused(f"cannot rewrite {task_name!r} in place: " + "; ".join(problems),
                             hint="make the value a literal in the decorator, or change the file by hand")
    return module.visit(_Rewriter(call, edits)).code


def _name_of(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return None


def _source(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _literal(node: cst.BaseExpression) -> Any:
    return ast.literal_eval(_source(node))


class _Aliases(cst.CSTVisitor):
    """`from ... import worker_task as wt`: the names the decorator goes by in this file."""

    def __init__(self, decorator_names: tuple[str, ...]) -> None:
        super().__init__()
        self.decorator_names = decorator_names
        self.names: list[str] = []

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if isinstance(node.names, cst.ImportStar):
            return
        for alias in node.names:
            if _name_of(alias.name) in self.decorator_names and alias.asname is not None:
                self.names.append(_name_of(alias.asname.name) or "")


class _Finder(cst.CSTVisitor):
    """The decorator calls that declare the task: by task_definition_name (or first argument), else the function."""

    def __init__(self, task_name: str, decorator_names: tuple[str, ...]) -> None:
        super().__init__()
        self.task_name = task_name
        self.decorator_names = decorator_names
        self.calls: list[cst.Call] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        for decorator in node.decorators:
            call = decorator.decorator
            if isinstance(call, cst.Call) and _name_of(call.func) in self.decorator_names:
                if _declared(call, node.name.value) == self.task_name:
                    self.calls.append(call)


def _declared(call: cst.Call, function: str) -> str | None:
    for index, arg in enumerate(call.args):
        named = arg.keyword.value if arg.keyword is not None else None
        if named == "task_definition_name" or (named is None and index == 0 and arg.star == ""):
            try:
                value = _literal(arg.value)
            except (ValueError, SyntaxError, TypeError):
                return None
            return value if isinstance(value, str) else None
    return function


def _problems(call: cst.Call, edits: list[KeywordEdit]) -> list[str]:
    problems = []
    if any(arg.keyword is not None and arg.keyword.value == "task_def" for arg in call.args):
        problems.append("its fields live in task_def=TaskDef(...), not in the decorator's keywords")
    if any(arg.star == "**" for arg in call.args):
        problems.append("the call passes **kwargs, so any keyword may come from there")
    present = {arg.keyword.value: arg for arg in call.args if arg.keyword is not None}
    for edit in edits:
        arg = present.get(edit.keyword)
        if arg is None:
            continue
        try:
            _literal(arg.value)
        except (ValueError, SyntaxError, TypeError):
            problems.append(f"{edit.keyword}={_source(arg.value)} is not a literal (a name, an expression or a call)")
    return problems


class _Rewriter(cst.CSTTransformer):
    def __init__(self, call: cst.Call, edits: list[KeywordEdit]) -> None:
        super().__init__()
        self.call = call
        self.edits = {e.keyword: e.value for e in edits}

    def leave_Call(self, original_node: cst.Call, updated_node: cst.Call) -> cst.Call:
        if original_node is not self.call:
            return updated_node
        args = list(updated_node.args)
        quote = _quote_style(args)
        seen = set()
        for index, arg in enumerate(args):
            if arg.keyword is not None and arg.keyword.value in self.edits:
                seen.add(arg.keyword.value)
                value = python_literal(self.edits[arg.keyword.value], quote)
                args[index] = arg.with_changes(value=cst.parse_expression(value))
        missing = [k for k in self.edits if k not in seen]
        return updated_node.with_changes(args=_append(args, missing, self.edits, quote) if missing else args)


def _append(args: list[cst.Arg], keywords: list[str], values: dict[str, Any], quote: str) -> list[cst.Arg]:
    """New keywords after the last argument: separated and indented as the call's own arguments are, and
    the call's own ending (a trailing comma, the newline before `)`) kept after the last one."""
    plain = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))
    inner = args[-2].comma if len(args) >= 2 and isinstance(args[-2].comma, cst.Comma) else plain
    if isinstance(inner.whitespace_after, cst.ParenthesizedWhitespace):  # its line's comment stays on that line
        inner = inner.with_changes(whitespace_after=inner.whitespace_after.with_changes(
            first_line=cst.TrailingWhitespace(), empty_lines=()))
    ending = args[-1].comma if args else cst.MaybeSentinel.DEFAULT
    if args:
        args[-1] = args[-1].with_changes(comma=inner)
    added = [cst.Arg(keyword=cst.Name(k), value=cst.parse_expression(python_literal(values[k], quote)),
                     equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                           whitespace_after=cst.SimpleWhitespace("")), comma=inner)
             for k in keywords]
    added[-1] = added[-1].with_changes(comma=ending)
    return args + added


def _quote_style(args: list[cst.Arg]) -> str:
    """The quote the call's own strings use (double when it has none: the common style)."""
    for arg in args:
        if isinstance(arg.value, cst.SimpleString):
            return "'" if arg.value.quote.startswith("'") else '"'
    return '"'


def python_literal(value: Any, quote: str) -> str:
    """A Python literal for a JSON value, strings in the call's own quote."""
    if isinstance(value, str):
        text = repr(value)
        if quote == '"' and text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, list):
        return "[" + ", ".join(python_literal(v, quote) for v in value) + "]"
    return repr(value)
