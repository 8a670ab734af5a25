"""`workflow run` against 200 answers that are not what Conductor sends.

A proxy or login page in front of Conductor may answer 200 with HTML: that page must
never be taken as a workflow id (it used to be printed, and polled with --wait).
"""
from __future__ import annotations

import json

import pytest

from tests.clihelp import run_cli

pytestmark = pytest.mark.server

HTML = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>" + b"x" * 5000 + b"</body></html>"

NOT_AN_ID = {
    "html page": (HTML, "text/html"),
    "html labelled as text": (HTML, "text/plain"),
    "empty body": (b"", "text/plain"),
    "sentence": (b"workflow started OK", "text/plain"),
    "json object": (b'{"workflowId": "abc"}', "application/json"),
    "json number": (b"42", "application/json"),
    "json null": (b"null", "application/json"),
    "escape sequence": (b"\x1b[2Jabc", "text/plain"),
    "broken json": (b"{\"workflowId\": ", "application/json"),
}


@pytest.mark.parametrize("case", sorted(NOT_AN_ID))
@pytest.mark.parametrize("wait", [False, True])
def test_start_answer_that_is_not_a_workflow_id_is_a_clear_error(project, fault_proxy, capsys, case, wait):
    body, content_type = NOT_AN_ID[case]
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path="/api/workflow", action="status", status=200, body=body,
                   content_type=content_type)
    argv = ["--server-url", proxy.url, "workflow", "run", "some_flow", "--json"] + (["--wait"] if wait else [])
    result = run_cli(capsys, *argv)
    assert result.code == 1, result.out + result.err
    error = result.json["error"]
    assert error["type"] == "ServerError" and "internal error" not in result.out + result.err
    assert "POST /workflow" in error["message"] and "workflowId" not in result.json
    assert "Sign in" not in result.out + result.err and "\x1b" not in result.out + result.err
    assert proxy.count("POST", "/api/workflow") == 1  # a start is never retried
    assert proxy.count("GET", "/api/workflow") == 0   # nothing polled with a bogus id


@pytest.mark.parametrize("case", ["html page", "json null", "sentence"])
def test_wait_on_an_execution_answer_that_is_not_json_is_a_clear_error(project, fault_proxy, capsys, case):
    body, content_type = NOT_AN_ID[case]
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path="/api/workflow", action="status", status=200, body=b"0b1f-run-id",
                   content_type="text/plain")
    proxy.add_rule(method="GET", path="/api/workflow/0b1f-run-id", action="status", status=200, body=body,
                   content_type=content_type)
    result = run_cli(capsys, "--server-url", proxy.url, "workflow", "run", "some_flow", "--wait", "--json")
    assert result.code == 1, result.out + result.err
    assert result.json["error"]["type"] == "ServerError"
    assert "not an execution" in result.json["error"]["message"]
    assert "internal error" not in result.out + result.err


def test_a_plain_text_id_is_accepted(project, fault_proxy, capsys):
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path="/api/workflow", action="status", status=200,
                   body=b"3f0c1a52-6a4e-4c5e-9a55-0d6c2b1e7f10\n", content_type="text/plain")
    result = run_cli(capsys, "--server-url", proxy.url, "workflow", "run", "some_flow", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["workflowId"] == "3f0c1a52-6a4e-4c5e-9a55-0d6c2b1e7f10"
