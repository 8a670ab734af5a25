"""Rewrite a task file's decorator keywords in place, keeping every other byte (libcst).

The groundwork of `tasks pull` (bidirectional sync): a server edit comes back into the code as
new literal values of the `@worker_task(...)` keywords. Comments, formatting, keyword order, other
decorators and the function body stay exactly as written. A keyword whose value in the code is not
a literal (a constant, an expression, `**kwargs`, a settings object) cannot be rewritten without
guessing: it is refused, naming the keyword and why. Never a regex, never an `ast` round trip.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any

import libcst as cst

from idflow.base.errors import IdflowError

DECORATORS = ("worker_task",)   # the names discovery accepts, aliases resolved by the caller
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$")


class RewriteRefused(IdflowError):
    exit_code = 3


@dataclass(frozen=True)
class KeywordEdit:
    """One decorator keyword `tasks pull` rewrites in a task file, and its new literal value."""
    keyword: str          # decorator keyword (snake_case), e.g. "retry_count"
    value: Any            # the new value: a JSON scalar or list of them


def rewrite_keywords(source: str, task_name: str, edits: list[KeywordEdit], *,
                     decorator_names: tuple[str, ...] = DECORATORS) -> str:
    """`source` with the keywords of the decorator that declares `task_name` set to the edits' values.

    A keyword missing from the call is added at its end, in the call's own style. Raises
    RewriteRefused when the task is not found, is declared twice, or a keyword to change holds
    something other than a literal.

    `ast` (C-fast) finds the one decorator call; only that call's text goes through libcst, which
    rewrites it keeping its bytes. The rest of the file is never re-generated, so it cannot change.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise RewriteRefused(f"the file does not parse as Python: {exc.msg} (line {exc.lineno})") from None
    calls = [call for call, function in _decorator_calls(tree, decorator_names)
             if _declared(call, function) == task_name]
    if not calls:
        raise RewriteRefused(f"no @worker_task declaring {task_name!r} in this file")
    if len(calls) > 1:
        raise RewriteRefused(f"{task_name!r} is declared {len(calls)} times in this file")
    start, end = _span(source, calls[0])
    text = source[start:end]
    newline = "\r\n" if "\r\n" in text else "\r" if "\r" in text else "\n"   # else libcst writes \n
    call = cst.ensure_type(cst.parse_expression(text, cst.PartialParserConfig(default_newline=newline)), cst.Call)
    problems = _problems(call, edits)
    if problems:
        raise RewriteRefused(f"cannot rewrite {task_name!r} in place: " + "; ".join(problems),
                             hint="make the value a literal in the decorator, or change the file by hand")
    rewritten = cst.Module(body=[], default_newline=newline).code_for_node(_rewritten(call, edits))
    return source[:start] + rewritten + source[end:]


def _source(node: cst.CSTNode) -> str:
    return cst.Module(body=[]).code_for_node(node)


def _literal(node: cst.BaseExpression) -> Any:
    return ast.literal_eval(_source(node))


def _called_name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _decorator_calls(tree: ast.Module, decorator_names: tuple[str, ...]) -> list[tuple[ast.Call, str]]:
    """Every decorator call to one of `decorator_names`, or to an alias a `from ... import worker_task as wt`
    gives it anywhere in the file, with the function it decorates. One walk of the tree."""
    aliases, decorated = [], []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            aliases += [a.asname for a in node.names if a.name in decorator_names and a.asname]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            decorated += [(d, node.name) for d in node.decorator_list if isinstance(d, ast.Call)]
    names = set(decorator_names) | set(aliases)
    return [(call, function) for call, function in decorated if _called_name(call.func) in names]


def _declared(call: ast.Call, function: str) -> str | None:
    """The task a decorator call declares: task_definition_name (or the first argument), else the function."""
    if call.args and not isinstance(call.args[0], ast.Starred):
        given: ast.expr | None = call.args[0]
    else:
        given = next((k.value for k in call.keywords if k.arg == "task_definition_name"), None)
    if given is None:
        return function
    try:
        value = ast.literal_eval(given)
    except (ValueError, SyntaxError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _span(source: str, node: ast.expr) -> tuple[int, int]:
    """The node's text as offsets into `source` (ast's columns count UTF-8 bytes)."""
    lines = _LINE.findall(source)   # not splitlines: Python ends lines only at \n, \r\n and \r
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(lineno: int, col: int) -> int:
        return starts[lineno - 1] + len(lines[lineno - 1].encode("utf-8")[:col].decode("utf-8"))

    return offset(node.lineno, node.col_offset), offset(node.end_lineno or node.lineno, node.end_col_offset or 0)


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


def _rewritten(call: cst.Call, edits: list[KeywordEdit]) -> cst.Call:
    """The call with each edited keyword's value replaced, or appended when the call lacks it. Only the
    call's own argument list is rebuilt: every other node is the parsed one, so its bytes stay."""
    values = {e.keyword: e.value for e in edits}
    args = list(call.args)
    quote = _quote_style(args)
    seen = set()
    for index, arg in enumerate(args):
        if arg.keyword is not None and arg.keyword.value in values:
            seen.add(arg.keyword.value)
            args[index] = arg.with_changes(value=cst.parse_expression(python_literal(values[arg.keyword.value],
                                                                                    quote)))
    missing = [k for k in values if k not in seen]
    return call.with_changes(args=_append(args, missing, values, quote) if missing else args)


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
