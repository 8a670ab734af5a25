"""Every field idflow owns is diffed, uploaded and held by the real server, one at a time.

A diff that compared only some fields (say `name` and `retryCount`) would pass any
test that changes only those; so each owned field gets a case of its own here, and
one test checks that the cases cover every field the TaskDef model owns.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from idflow.model import fields as taskdef
from tests.clihelp import run_cli

pytestmark = pytest.mark.server

# A valid definition with every keyword set, so that changing one never moves another
# (e.g. responseTimeoutSeconds follows timeout_seconds only when it is unset).
BASE: dict[str, Any] = {
    "retry_count": 2, "timeout_seconds": 1200, "timeout_policy": "TIME_OUT_WF", "retry_logic": "FIXED",
    "retry_delay_seconds": 7, "response_timeout_seconds": 300, "concurrent_exec_limit": 4,
    "rate_limit_frequency_in_seconds": 60, "rate_limit_per_frequency": 100, "backoff_scale_factor": 2,
    "total_timeout_seconds": 5000, "poll_timeout_seconds": 60, "owner_email": "old@example.com",
    "input_keys": ["order"], "output_keys": ["result"],
}
BASE_DOC = "Process one order.\n\nDetails that stay out of the description."

# keyword -> new value; each differs from BASE and keeps the definition valid.
CHANGES: dict[str, Any] = {
    "retry_count": 5, "timeout_seconds": 1500, "timeout_policy": "RETRY", "retry_logic": "EXPONENTIAL_BACKOFF",
    "retry_delay_seconds": 9, "response_timeout_seconds": 250, "concurrent_exec_limit": 7,
    "rate_limit_frequency_in_seconds": 30, "rate_limit_per_frequency": 50, "backoff_scale_factor": 3,
    "total_timeout_seconds": 6000, "poll_timeout_seconds": 90, "owner_email": "new@example.com",
    "input_keys": ["order", "customer"], "output_keys": ["result", "receipt"],
}


def source(name: str, keywords: dict[str, Any], docstring: str = BASE_DOC) -> str:
    args = ", ".join([f"task_definition_name={name!r}"] + [f"{k}={v!r}" for k, v in keywords.items()])
    return (f"from idflow import worker_task\n\n\n@worker_task({args})\n"
            f"def {name}(task_input) -> dict:\n    {docstring!r}\n    return {{'ok': True}}\n")


CASES = [pytest.param(k, {**BASE, k: v}, BASE_DOC, taskdef.FIELDS_BY_KEYWORD[k].wire, BASE[k], v, id=k)
         for k, v in CHANGES.items()]
CASES += [
    pytest.param("docstring", BASE, "Process one refund.\n\nDetails.", "description",
                 "Process one order.", "Process one refund.", id="docstring"),
    pytest.param("description", {**BASE, "description": "Set by keyword."}, BASE_DOC, "description",
                 "Process one order.", "Set by keyword.", id="description-keyword"),
]


def test_the_cases_cover_every_owned_field():
    covered = {c.values[3] for c in CASES}
    assert covered == {f.wire for f in taskdef.FIELDS}
    # The README table names the same keywords the model knows.
    readme = Path(__file__).resolve().parent.parent / "README.md"
    table = readme.read_text(encoding="utf-8").split("## Writing a task", 1)[1].split("## Commands", 1)[0]
    for keyword in taskdef.TASKDEF_KEYWORDS:
        assert keyword in table, keyword


@pytest.mark.parametrize("case, keywords, docstring, wire, old, new", CASES)
def test_one_owned_field_changed_alone_is_diffed_uploaded_and_held(project, prefix, client, capsys, case,
                                                                    keywords, docstring, wire, old, new):
    name = prefix + "owned"
    project.write_task(name, source(name, BASE))
    first = run_cli(capsys, "tasks", "upload", name, "--json")
    assert first.code == 0 and first.json["created"] == [name], first.err
    assert run_cli(capsys, "tasks", "diff", name, "--json").code == 0

    project.write_task(name, source(name, keywords, docstring))
    diff = run_cli(capsys, "tasks", "diff", name, "--json")
    assert diff.code == 4, diff.err
    [item] = diff.json["items"]
    assert item["action"] == "update"
    assert item["changes"] == [{"field": wire, "old": old, "new": new}]

    upload = run_cli(capsys, "tasks", "upload", name, "--json")
    assert upload.code == 0, upload.err
    assert upload.json["updated"] == [name] and upload.json["failed"] == []
    held = client.get_taskdef(name)
    held_value = taskdef.strip_provenance(held[wire]) if wire == "description" else held[wire]
    assert held_value == new
    # Every other owned field kept its value: the upload wrote this one field's change.
    for spec in taskdef.FIELDS:
        if spec.wire != wire and spec.keyword in BASE:
            assert held[spec.wire] == BASE[spec.keyword], spec.wire

    again = run_cli(capsys, "tasks", "diff", name, "--json")
    assert again.code == 0 and [i["action"] for i in again.json["items"]] == ["unchanged"], again.out
