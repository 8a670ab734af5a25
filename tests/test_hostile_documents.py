"""Backups and saved plans that parse but hold missing keys or wrong types: an error naming the file and
the entry, exit 1, and nothing written to the server (every request goes through a fault proxy)."""
from __future__ import annotations

import json

import pytest

from tests.clihelp import run_cli

pytestmark = pytest.mark.server


def _writes(proxy) -> list[str]:
    return [f"{r.method} {r.path}" for r in proxy.requests if r.method != "GET"]


TASK_BACKUPS = {
    "entry without name": ({"taskdefs": [{"retryCount": 1}]}, "entry 0 is not a task definition (no name"),
    "name not a string": ({"taskdefs": [{"name": 5}]}, "entry 0 is not a task definition (no name"),
    "entry not an object": ({"taskdefs": ["x"]}, "entry 0 is not a task definition (a JSON object), got str"),
    "second entry bad": ({"taskdefs": [{"name": "ok"}, None]}, "entry 1 is not a task definition"),
    "taskdefs not a list": ({"taskdefs": {"name": "x"}}, "not an idflow backup of taskdefs"),
    "a list": ([{"name": "x"}], "not an idflow backup of taskdefs"),
    "workflows backup": ({"workflows": []}, "it holds workflows"),
    "retryCount text": ({"taskdefs": [{"name": "x", "retryCount": "three"}]}, "retry_count must be a whole number"),
    "retryCount too big": ({"taskdefs": [{"name": "x", "retryCount": 2 ** 40}]}, "retryCount must be within"),
    "timeout a float": ({"taskdefs": [{"name": "x", "timeoutSeconds": 1.5}]}, "timeout_seconds must be a whole"),
    "inputKeys not strings": ({"taskdefs": [{"name": "x", "inputKeys": [1]}]}, "input_keys must be a list"),
}


@pytest.mark.parametrize("case", sorted(TASK_BACKUPS))
def test_a_task_backup_with_missing_keys_or_wrong_types(project, capsys, fault_proxy, case):
    document, fragment = TASK_BACKUPS[case]
    (project.root / "b.json").write_text(json.dumps(document))
    proxy = fault_proxy()
    done = run_cli(capsys, "--server-url", proxy.url, "tasks", "restore", "b.json", "-y", "--json")
    message = done.json["error"]["message"]
    assert done.code == 1 and fragment in message and "b.json" in message, message
    assert _writes(proxy) == []


WORKFLOW_BACKUPS = {
    "entry without name": ({"workflows": [{"version": 1, "tasks": []}]}, "not a workflow definition"),
    "entry a list": ({"workflows": [[]]}, "not a workflow definition"),
    "version text": ({"workflows": [{"name": "w", "version": "2", "tasks": []}]}, "has version '2'"),
    "version zero": ({"workflows": [{"name": "w", "version": 0, "tasks": []}]}, "has version 0"),
    "version bool": ({"workflows": [{"name": "w", "version": True, "tasks": []}]}, "has version True"),
    "tasks not a list": ({"workflows": [{"name": "w", "version": 1, "tasks": {}}]}, "tasks that are not a list"),
    "workflows not a list": ({"workflows": "w"}, "not an idflow backup of workflows"),
}


@pytest.mark.parametrize("case", sorted(WORKFLOW_BACKUPS))
def test_a_workflow_backup_with_missing_keys_or_wrong_types(project, capsys, fault_proxy, case):
    document, fragment = WORKFLOW_BACKUPS[case]
    (project.root / "b.json").write_text(json.dumps(document))
    proxy = fault_proxy()
    done = run_cli(capsys, "--server-url", proxy.url, "workflows", "restore", "b.json", "-y", "--json")
    message = done.json["error"]["message"]
    assert done.code == 1 and fragment in message and "b.json" in message, message
    assert _writes(proxy) == []


PLANS = {
    "dirty a number": ({"format": 1, "items": [], "dirty": 5}, "dirty is not a list of file names"),
    "dirty a string": ({"format": 1, "items": [], "dirty": "abc"}, "dirty is not a list of file names"),
    "items not a list": ({"format": 1, "items": {}}, "not an idflow plan"),
    "no format": ({"items": []}, "not an idflow plan"),
    "item without name": ({"format": 1, "items": [{"action": "create", "desired": {}}]}, "name must be"),
    "item not an object": ({"format": 1, "items": [3]}, "item 0 is not an object"),
    "changes not a list": ({"format": 1, "items": [{"name": "x", "action": "orphaned", "changes": 3}]},
                           "changes is not a list"),
}


@pytest.mark.parametrize("case", sorted(PLANS))
def test_a_plan_with_missing_keys_or_wrong_types(project, capsys, fault_proxy, case):
    document, fragment = PLANS[case]
    (project.root / "plan.json").write_text(json.dumps(document))
    proxy = fault_proxy()
    done = run_cli(capsys, "--server-url", proxy.url, "tasks", "apply", "plan.json", "--json")
    error = done.json["error"]
    assert done.code == 1 and error["type"] == "InvalidPlan" and fragment in error["message"], error
    assert _writes(proxy) == []
