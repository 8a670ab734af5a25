"""The read-back after a write compares values, not presence.

A server that holds something other than the plan after the write must be reported:
the definition is failed, the account says why, and the upload exits 1. Two ways to
make the server differ, both against the real server: the fault proxy rewrites the
POST body on its way, or a concurrent client writes between the write and the read-back.
"""
from __future__ import annotations

import json
import threading
from typing import Any, Callable

import pytest

from idflow.model import fields as taskdef
from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server

TASKDEFS = "/api/metadata/taskdefs"
KEYWORDS = {"retry_count": 2, "timeout_seconds": 600, "timeout_policy": "TIME_OUT_WF", "response_timeout_seconds": 300,
            "input_keys": ["order"]}


def _with(field: str, value: Any) -> Callable[[dict], None]:
    def change(definition: dict) -> None:
        definition[field] = value
    return change


def _description_text(definition: dict) -> None:
    # The text changes, the provenance trailer (and so the stamp) stays.
    text = definition["description"]
    definition["description"] = "Rewritten. " + text


def _drop_stamp(definition: dict) -> None:
    definition["description"] = taskdef.strip_provenance(definition["description"])


# case id -> (how the server copy is changed, the field it changes, what the failure must name)
REWRITES = {
    "retryCount": (_with("retryCount", 9), "retryCount", "retryCount"),
    "timeoutPolicy": (_with("timeoutPolicy", "ALERT_ONLY"), "timeoutPolicy", "timeoutPolicy"),
    "responseTimeoutSeconds": (_with("responseTimeoutSeconds", 123), "responseTimeoutSeconds",
                               "responseTimeoutSeconds"),
    "inputKeys": (_with("inputKeys", ["other"]), "inputKeys", "inputKeys"),
    "description": (_description_text, "description", "description"),
    "stamp": (_drop_stamp, "description", "stamp"),
}


def body_rewriter(name: str, change: Callable[[dict], None]):
    def rewrite(request) -> bytes:
        definitions = json.loads(request.body)
        for definition in definitions:
            if definition.get("name") == name:
                change(definition)
        return json.dumps(definitions).encode()
    return rewrite


def assert_reported(result, name: str, names_field: str) -> None:
    assert result.code == 1, (result.out, result.err)
    doc = result.json
    assert doc["created"] == [] and doc["updated"] == []
    [failed] = doc["failed"]
    assert failed["name"] == name and any(names_field in e for e in failed["errors"]), failed


@pytest.fixture
def task(project, prefix, capsys):
    """(name, upload(*argv)): a task file; with action "update" it is on the server already,
    and the file then changes so that the next upload is an update."""
    name = prefix + "rb"

    def setup(action: str) -> str:
        project.write_task(name, task_source(name, **KEYWORDS))
        if action == "update":
            first = run_cli(capsys, "tasks", "upload", name, "--json")
            assert first.code == 0 and first.json["created"] == [name], first.err
            project.write_task(name, task_source(name, **{**KEYWORDS, "retry_count": 3}))
        return name
    return setup


@pytest.mark.parametrize("action", ["create", "update"])
@pytest.mark.parametrize("case", list(REWRITES))
def test_a_body_rewritten_on_the_way_is_a_mismatch(task, fault_proxy, client, capsys, action, case):
    change, field, names_field = REWRITES[case]
    name = task(action)
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path=TASKDEFS, rewrite=body_rewriter(name, change))
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", name, "--json")
    assert_reported(result, name, names_field)
    # The rewrite reached the server: the check above had a real difference to find.
    [post] = [r for r in proxy.requests if r.method == "POST" and r.path == TASKDEFS]
    [sent] = [d for d in post.json() if d["name"] == name]   # recorded as idflow sent it
    rewritten = dict(sent)
    change(rewritten)
    assert client.get_taskdef(name)[field] == rewritten[field] != sent[field]


def concurrent_writer(proxy, client, name: str, change: Callable[[dict], None]) -> threading.Event:
    """On the first read of the task defs after the POST (the read-back), write first."""
    wrote = threading.Event()

    def hook(request) -> bytes:
        if proxy.count("POST", TASKDEFS) and not wrote.is_set():
            copy = client.get_taskdef(name)
            change(copy)
            client.upsert_taskdefs([{k: v for k, v in copy.items() if k not in ("createTime", "updateTime")}])
            wrote.set()
        return request.body
    proxy.add_rule(method="GET", path=TASKDEFS, rewrite=hook)
    return wrote


@pytest.mark.parametrize("action", ["create", "update"])
@pytest.mark.parametrize("case", ["retryCount", "timeoutPolicy", "description", "stamp"])
def test_a_concurrent_write_before_the_read_back_is_a_mismatch(task, fault_proxy, client, capsys, action, case):
    change, _, names_field = REWRITES[case]
    name = task(action)
    proxy = fault_proxy()
    wrote = concurrent_writer(proxy, client, name, change)
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", name, "--json")
    assert wrote.is_set()
    assert_reported(result, name, names_field)


def test_a_concurrent_write_to_a_field_idflow_does_not_own_is_no_mismatch(task, fault_proxy, client, capsys):
    name = task("update")
    proxy = fault_proxy()
    wrote = concurrent_writer(proxy, client, name, _with("outputKeys", ["set-by-someone-else"]))
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", name, "--json")
    assert wrote.is_set()
    assert result.code == 0 and result.json["updated"] == [name] and result.json["failed"] == [], result.out
    assert client.get_taskdef(name)["outputKeys"] == ["set-by-someone-else"]
