"""`tasks apply PLAN` checks the plan's items exactly as an upload checks task files.

A plan is a file: anyone can edit it between `diff --out` and `apply`. Each tampering
below must be refused before any write, with a clear message and exit 1.
"""
from __future__ import annotations

import copy
import json

import pytest

from idflow.taskdefs.plan import InvalidPlan, Plan
from tests.clihelp import run_cli, task_source


def _create(plan):
    return next(i for i in plan["items"] if i["action"] == "create")


def _set(key, value):
    def tamper(plan):
        _create(plan)["desired"][key] = value
    return tamper


def _item(key, value):
    def tamper(plan):
        _create(plan)[key] = value
    return tamper


def _rename_item(plan):  # the item says one name, the definition written says another
    _create(plan)["name"] = _create(plan)["name"] + "_other"


def _rename_both(rename):
    """Item and definition renamed alike; the new name keeps the test's prefix, so a write would show."""
    def tamper(plan):
        name = rename(_create(plan)["name"])
        _create(plan)["name"] = name
        _create(plan)["desired"]["name"] = name
    return tamper


TAMPERINGS = {
    "desired name differs": _rename_item,
    "desired name changed alone": lambda plan: _set("name", _create(plan)["name"] + "_else")(plan),
    "non-ascii name": _rename_both(lambda n: n + "über"),
    "name with a slash": _rename_both(lambda n: n + "/b"),
    "name with a space": _rename_both(lambda n: n + " b"),
    "name with an escape": _rename_both(lambda n: n + "\x1b[2J"),
    "empty name": _rename_both(lambda n: ""),
    "name not a string": _rename_both(lambda n: 7),
    "name too long": _rename_both(lambda n: n + "n" * 300),
    "int above java int": _set("retryCount", 2**31),
    "long above java long": _set("timeoutSeconds", 2**63),
    "negative retries": _set("retryCount", -1),
    "bool for int": _set("retryCount", True),
    "string for int": _set("retryCount", "5"),
    "float for int": _set("retryDelaySeconds", 1.5),
    "bad enum": _set("timeoutPolicy", "EXPLODE"),
    "list for enum": _set("retryLogic", ["FIXED"]),
    "response above timeout": lambda plan: _create(plan)["desired"].update(timeoutSeconds=10,
                                                                          responseTimeoutSeconds=100),
    "unknown field": _set("inputTemplate", {"x": 1}),
    "provenance marker in description": _set("description", "x\n\n[idflow] {}"),
    "no desired": _item("desired", None),
    "desired not an object": _item("desired", ["x"]),
    "bad action": _item("action", "explode"),
    "provenance junk": _item("provenance", {"evil": 1}),
    "provenance not an object": _item("provenance", "x"),
    "changes junk": _item("changes", [{"nope": 1}]),
    "item not an object": lambda plan: plan["items"].append("x"),
    "items not a list": lambda plan: plan.update(items={"a": 1}),
    "document is a list": lambda plan: plan.clear(),
}


@pytest.fixture
def planned(project, prefix, capsys):
    """(name, plan document) of a plan to create one task, written by `tasks diff --out`."""
    name = prefix + "planned"
    project.write_task(name, task_source(name, retry_count=2))
    result = run_cli(capsys, "tasks", "diff", name, "--out", "plan.json")
    assert result.code == 4, result.err
    return name, json.loads((project.root / "plan.json").read_text())


@pytest.mark.server
@pytest.mark.parametrize("case", sorted(TAMPERINGS))
def test_tampered_plan_is_refused_before_any_write(planned, project, prefix, client, capsys, case):
    name, document = planned
    TAMPERINGS[case](document)
    text = json.dumps([] if document == {} else document)
    (project.root / "plan.json").write_text(text)
    result = run_cli(capsys, "--json", "tasks", "apply", "plan.json")
    assert result.code == 1, result.out + result.err
    assert "internal error" not in result.out + result.err
    assert result.json["error"]["type"] == "InvalidPlan" and "plan" in result.json["error"]["message"]
    # Other suites share the server: only this test's prefix is ours to check.
    assert [d["name"] for d in client.list_taskdefs() if d["name"].startswith(prefix)] == []


@pytest.mark.server
def test_untampered_plan_applies(planned, project, client, capsys):
    name, _ = planned
    result = run_cli(capsys, "--json", "tasks", "apply", "plan.json")
    assert result.code == 0, result.out + result.err
    assert result.json["created"] == [name] and client.get_taskdef(name)["retryCount"] == 2


def test_plan_round_trip_and_problems_named():
    from idflow.taskdefs.plan import make_plan
    from idflow.model import fields as taskdef

    plan = make_plan([taskdef.build("ok_task", {})], [{"name": "foreign über", "description": None}])
    again = Plan.from_json(json.loads(json.dumps(plan.to_json())))
    assert again.items == plan.items  # foreign names are whatever the server holds: never written, accepted
    bad = copy.deepcopy(plan.to_json())
    bad["items"][0]["desired"]["name"] = "other"
    bad["items"][0]["desired"]["retryCount"] = 2**31
    with pytest.raises(InvalidPlan) as caught:
        Plan.from_json(bad)
    assert "named 'other', not 'ok_task'" in caught.value.message
    assert "retryCount must be <=" in caught.value.message
    assert caught.value.exit_code == 1 and isinstance(caught.value, ValueError)


UNREADABLE = {
    "deeply nested": "[" * 100_000 + "]" * 100_000,
    "int of 5000 digits": '{"format": 1, "items": [], "x": ' + "1" * 5000 + "}",
    "not utf-8": b"\xff\xfe{}",
    "not json": "format: 1",
    "a list": "[]",
    "a directory": None,
    "missing": None,
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_a_plan_file_that_is_no_plan_is_a_clear_error(tmp_path, capsys, monkeypatch, case):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "plan.json"
    content = UNREADABLE[case]
    if case == "a directory":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    result = run_cli(capsys, "--json", "tasks", "apply", "plan.json")
    assert result.code == 1, result.out + result.err
    assert result.json["error"]["type"] == "InvalidPlan"
    assert "internal error" not in result.out + result.err and len(result.out) < 1000
