"""Decorator keywords rewritten in place (groundwork of `tasks pull`): only the changed values move.

Every form discovery accepts, keyword order varied, comments inside the call, multi-line calls;
non-literal values, **kwargs and the SDK's task_def=TaskDef(...) are refused, naming the keyword.
"""
from __future__ import annotations

import ast
import difflib
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from idflow.discovery.parse import parse_source
from idflow.taskdefs.rewrite import KeywordEdit, RewriteRefused, rewrite_keywords

FORMS = {
    "idflow_one_line": ('from idflow import worker_task\n\n\n@worker_task(task_definition_name="t", retry_count=2, '
                        'timeout_seconds=600)\ndef t(task_input):\n    return {}\n'),
    "seed_import_multi_line_comments": (
        "from conductor.client.worker.worker_task import worker_task\n\n\n"
        "@worker_task(\n    task_definition_name='t',  # the name\n    timeout_seconds=600,   # ten minutes\n"
        "    retry_count=2,\n)\ndef t(task_input):\n    \"\"\"Doc.\"\"\"\n    return {}\n"),
    "alias_positional_name": ("from idflow import worker_task as wt\n\n\n@other_decorator\n@wt('t', retry_count=2,\n"
                              "   timeout_seconds=600)\nasync def handler(x):\n    return x\n"),
    "module_attribute": ("import idflow\n\n\n@idflow.worker_task(task_definition_name=\"t\", timeout_seconds=600, "
                         "retry_count=2)  # trailing\ndef t(task_input):\n    return {}\n"),
    "two_tasks_in_one_file": ("from idflow import worker_task\n\n\n@worker_task(task_definition_name=\"other\", "
                              "retry_count=9)\ndef other(x):\n    return x\n\n\n@worker_task(task_definition_name=\"t\", "
                              "retry_count=2, timeout_seconds=600)\ndef t(x):\n    return x\n"),
    # ast finds the call by line and UTF-8 byte column: these would put the text span off by a few characters
    "windows_line_endings": ("from idflow import worker_task\r\n\r\n\r\n@worker_task(\r\n"
                             "    task_definition_name='t',  # the name\r\n    retry_count=2,\r\n"
                             "    timeout_seconds=600,\r\n)\r\ndef t(x):\r\n    return x\r\n"),
    "non_ascii_in_and_before_the_call": ("# Zürich \u2028 déjà vu \x0c naïve\nfrom idflow import worker_task\n\n\n"
                                         "@worker_task(task_definition_name=\"t\", description=\"Grüße, ☃\", "
                                         "retry_count=2, timeout_seconds=600)  # ☃\ndef t(x):\n    return x\n"),
    "method_in_a_class": ("from idflow import worker_task\n\n\nclass Workers:\n    @staticmethod\n"
                          "    @worker_task(task_definition_name=\"t\",\n                 retry_count=2, "
                          "timeout_seconds=600)\n    def t(x):\n        return x\n"),
}


def keywords_of(source: str, name: str) -> dict:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for decorator in node.decorator_list:
                if isinstance(decorator, ast.Call):
                    given = {k.arg: ast.literal_eval(k.value) for k in decorator.keywords}
                    declared = given.get("task_definition_name") or (
                        ast.literal_eval(decorator.args[0]) if decorator.args else node.name)
                    if declared == name:
                        return given
    raise AssertionError(f"{name} not found")


def call_span(source: str, name: str) -> tuple[int, int]:
    """Where the decorator call declaring `name` starts and ends, as offsets into `source`."""
    lines = re.findall(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+$", source)   # Python's line ends, not splitlines'
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for call in node.decorator_list:
                given = {k.arg: k.value for k in getattr(call, "keywords", [])}
                named = given.get("task_definition_name") or (call.args[0] if getattr(call, "args", None) else None)
                if named is not None and ast.literal_eval(named) == name:
                    def offset(line: int, col: int) -> int:
                        return sum(map(len, lines[:line - 1])) + len(lines[line - 1].encode()[:col].decode())
                    return offset(call.lineno, call.col_offset), offset(call.end_lineno, call.end_col_offset)
    raise AssertionError(f"{name} not found")


def changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.ndiff(before.splitlines(), after.splitlines()) if line[:1] in "+-"]


@pytest.mark.parametrize("form", FORMS)
def test_a_changed_keyword_moves_and_nothing_else(form):
    source = FORMS[form]
    after = rewrite_keywords(source, "t", [KeywordEdit("retry_count", 7)])
    assert keywords_of(after, "t")["retry_count"] == 7 and keywords_of(after, "t")["timeout_seconds"] == 600
    changed = changed_lines(source, after)
    assert len(changed) == 2 and all("retry_count" in line for line in changed), changed
    assert after.replace("retry_count=7", "retry_count=2") == source


@pytest.mark.parametrize("form", FORMS)
def test_a_keyword_the_code_lacks_is_added_in_the_calls_style(form):
    source = FORMS[form]
    after = rewrite_keywords(source, "t", [KeywordEdit("owner_email", "ops@example.org"),
                                           KeywordEdit("input_keys", ["a", "b"])])
    compile(after, "t.py", "exec")
    assert keywords_of(after, "t")["owner_email"] == "ops@example.org"
    assert keywords_of(after, "t")["input_keys"] == ["a", "b"]
    assert keywords_of(after, "t")["retry_count"] == 2
    if form == "two_tasks_in_one_file":
        assert keywords_of(after, "other") == keywords_of(source, "other")
    for line in source.splitlines():
        if "#" in line:  # each comment stays, on the line of the keyword it was written after
            code, comment = line.split("#", 1)
            assert any(l.endswith("#" + comment) and l.startswith(code.split("=")[0]) for l in after.splitlines())
            assert after.count("#" + comment) == source.count("#" + comment)   # never copied to a new line


@pytest.mark.parametrize("source, why", [
    ("RETRIES = 3\n@worker_task(task_definition_name='t', retry_count=RETRIES)\ndef t(x): pass\n", "RETRIES"),
    ("@worker_task(task_definition_name='t', retry_count=1 + 2)\ndef t(x): pass\n", "1 + 2"),
    ("@worker_task(task_definition_name='t', retry_count=settings.retries)\ndef t(x): pass\n", "settings.retries"),
    ("@worker_task(task_definition_name='t', **options)\ndef t(x): pass\n", "**kwargs"),
    ("@worker_task(task_definition_name='t', task_def=TaskDef(name='t', retry_count=2))\ndef t(x): pass\n",
     "TaskDef"),
], ids=["constant", "expression", "settings_object", "kwargs", "sdk_task_def"])
def test_a_value_that_is_not_a_literal_is_refused_naming_the_keyword(source, why):
    with pytest.raises(RewriteRefused) as refused:
        rewrite_keywords(source, "t", [KeywordEdit("retry_count", 5)])
    assert why in refused.value.message and refused.value.exit_code == 3


def test_a_task_not_in_the_file_or_declared_twice_is_refused():
    with pytest.raises(RewriteRefused, match="no @worker_task"):
        rewrite_keywords(FORMS["idflow_one_line"], "missing", [KeywordEdit("retry_count", 1)])
    twice = FORMS["idflow_one_line"] + FORMS["idflow_one_line"].split("\n\n\n", 1)[1].replace("def t", "def t2")
    with pytest.raises(RewriteRefused, match="2 times"):
        rewrite_keywords(twice, "t", [KeywordEdit("retry_count", 1)])


OWNED = {"retry_count": st.integers(0, 2**31 - 1), "timeout_seconds": st.integers(0, 10**9),
         "timeout_policy": st.sampled_from(["RETRY", "TIME_OUT_WF", "ALERT_ONLY"]),
         "retry_logic": st.sampled_from(["FIXED", "EXPONENTIAL_BACKOFF", "LINEAR_BACKOFF"]),
         "retry_delay_seconds": st.integers(0, 3600), "response_timeout_seconds": st.integers(1, 3600),
         "concurrent_exec_limit": st.integers(0, 100), "rate_limit_per_frequency": st.integers(0, 100),
         "owner_email": st.emails(), "description": st.text(max_size=40),
         "input_keys": st.lists(st.text(min_size=1, max_size=8), max_size=3)}


@settings(max_examples=150, deadline=None)
@given(form=st.sampled_from(list(FORMS)),
       edits=st.dictionaries(st.sampled_from(list(OWNED)), st.none(), min_size=1).flatmap(
           lambda keys: st.fixed_dictionaries({k: OWNED[k] for k in keys})))
def test_random_edits_land_and_leave_every_other_keyword_alone(form, edits):
    source = FORMS[form]
    after = rewrite_keywords(source, "t", [KeywordEdit(k, v) for k, v in edits.items()])
    again = keywords_of(after, "t")
    assert {k: again[k] for k in edits} == edits
    assert {k: v for k, v in again.items() if k not in edits} == {
        k: v for k, v in keywords_of(source, "t").items() if k not in edits}
    if form == "two_tasks_in_one_file":
        assert keywords_of(after, "other") == keywords_of(source, "other")
    assert after.splitlines()[:3] == source.splitlines()[:3]      # imports untouched
    assert after.rstrip().endswith(source.rstrip().splitlines()[-1])   # the body's last line untouched
    # What `tasks diff` compares: discovery reads the file as exactly the server's values (nothing left to
    # change), and every byte outside the decorator call is the file's own.
    read = next(t for t in parse_source(after.encode())["tasks"] if t["name"] == "t")
    assert read["problems"] == [] and {k: read["keywords"][k] for k in edits} == edits
    start, end = call_span(source, "t")
    new_start, new_end = call_span(after, "t")
    assert (after[:new_start], after[new_end:]) == (source[:start], source[end:])
