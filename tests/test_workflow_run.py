"""End to end: task files + a workflow file -> upload -> workers -> `idflow workflow run --wait`."""
from __future__ import annotations

import json

import httpx
import pytest
import typer

from idflow.cli.commands.workflows import _parse_input
from tests.clihelp import run_cli
from tests.test_worker import WorkerProcess, flat

ADD = """
from idflow import worker_task


@worker_task(task_definition_name={name!r}, retry_count=0, timeout_seconds=60, response_timeout_seconds=30)
def {name}(a: int = 0, b: int = 0) -> dict:
    \"\"\"Add a and b.\"\"\"
    return {{"sum": a + b}}
"""
BOOM = """
from idflow import worker_task


@worker_task(task_definition_name={name!r}, retry_count=0, timeout_seconds=60, response_timeout_seconds=30)
def {name}(what: str = "") -> dict:
    \"\"\"Always fails.\"\"\"
    raise ValueError(f"boom: {{what}} is broken")
"""


def _workflow(name: str, *tasks: tuple[str, str, dict]) -> dict:
    return {"name": name, "version": 1, "schemaVersion": 2, "timeoutSeconds": 60, "timeoutPolicy": "TIME_OUT_WF",
            "tasks": [{"name": task, "taskReferenceName": ref, "type": "SIMPLE", "inputParameters": inputs}
                      for task, ref, inputs in tasks],
            "outputParameters": {"sum": "${add.output.sum}"}}


@pytest.mark.server
def test_run_completes_and_a_failing_task_is_reported(project, prefix, client, capsys):
    add, boom = prefix + "add", prefix + "boom"
    ok_wf, bad_wf = prefix + "sum", prefix + "fails"
    project.write_task(add, ADD.format(name=add))
    project.write_task(boom, BOOM.format(name=boom))
    (project.workflows_dir / f"{ok_wf}.json").write_text(json.dumps(_workflow(
        ok_wf, (add, "add", {"a": "${workflow.input.a}", "b": "${workflow.input.b}"}))))
    (project.workflows_dir / f"{bad_wf}.yaml").write_text(json.dumps(_workflow(  # JSON is YAML too
        bad_wf, (add, "add", {"a": 1, "b": 1}), (boom, "boom", {"what": "${add.output.sum}"}))))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    uploaded = run_cli(capsys, "workflows", "upload", "--all")
    assert uploaded.code == 0, uploaded.err

    with WorkerProcess(project.root, "--all") as worker:
        worker.wait_for("polling")
        done = run_cli(capsys, "workflow", "run", ok_wf, "--input", '{"a": 2, "b": 3}', "--wait", "--timeout", "30")
        assert done.code == 0, done.err
        assert "COMPLETED" in done.out and '"sum": 5' in done.out
        assert f"add {add}: COMPLETED" in flat(done.err)   # task progress goes to stderr

        (project.root / "input.json").write_text('{"a": 40, "b": 2}')
        as_json = run_cli(capsys, "workflow", "run", ok_wf, "--input", "@input.json", "--wait", "--json")
        assert as_json.code == 0, as_json.err
        doc = as_json.json
        assert doc["status"] == "COMPLETED" and doc["output"] == {"sum": 42} and doc["workflowId"]
        assert [(t["ref"], t["status"]) for t in doc["tasks"]] == [("add", "COMPLETED")]

        failed = run_cli(capsys, "workflow", "run", bad_wf, "--wait", "--timeout", "30")
        assert failed.code == 1
        assert "FAILED" in failed.out and "boom: 2 is broken" in flat(failed.out)
        assert f"boom {boom}: FAILED" in flat(failed.err)

        failed_json = run_cli(capsys, "workflow", "run", bad_wf, "--wait", "--json")
        assert failed_json.code == 1
        [task] = failed_json.json["failedTasks"]
        assert task["ref"] == "boom" and task["reasonForIncompletion"] == "boom: 2 is broken"
        assert failed_json.json["status"] == "FAILED"
        code, elapsed = worker.stop()
    assert code == 0 and elapsed < 10, worker.err
    assert "boom: 2 is broken" in worker.err  # the worker logs the task's traceback


@pytest.mark.server
def test_run_without_wait_and_timeout_and_unknown_workflow(project, prefix, client, conductor_url, capsys):
    add, wf = prefix + "nobody_polls", prefix + "stuck"
    project.write_task(add, ADD.format(name=add))
    (project.workflows_dir / f"{wf}.json").write_text(json.dumps(_workflow(wf, (add, "add", {}))))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    assert run_cli(capsys, "workflows", "upload", "--all").code == 0
    started = []
    try:
        quick = run_cli(capsys, "workflow", "run", wf, "--version", "1", "--json")
        assert quick.code == 0, quick.err
        started.append(quick.json["workflowId"])
        assert quick.json["status"] == "RUNNING"
        assert client.get_execution(started[0])["workflowName"] == wf

        waited = run_cli(capsys, "workflow", "run", wf, "--wait", "--timeout", "1", "--json")
        started.append(waited.json["workflowId"])
        assert waited.code == 1
        assert waited.json["timedOut"] is True and waited.json["status"] == "RUNNING"
        assert waited.json["tasks"][0]["status"] == "SCHEDULED"
    finally:
        for workflow_id in started:
            httpx.delete(f"{conductor_url}/workflow/{workflow_id}", params={"reason": "test cleanup"})
    missing = run_cli(capsys, "workflow", "run", prefix + "no_such_workflow")
    assert missing.code == 1 and prefix + "no_such_workflow" in flat(missing.err)


def test_input_must_be_a_json_object(tmp_path):
    assert _parse_input('{"a": 1}') == {"a": 1}
    assert _parse_input(None) == {}
    (tmp_path / "in.yaml").write_text("a: 1\nb: [x]\n")
    assert _parse_input(f"@{tmp_path / 'in.yaml'}") == {"a": 1, "b": ["x"]}
    for bad in ("[1, 2]", "{not json", f"@{tmp_path / 'missing.json'}"):
        with pytest.raises(typer.BadParameter):
            _parse_input(bad)
    from idflow.base.errors import InputFileError

    (tmp_path / "list.json").write_text("[1, 2]")
    (tmp_path / "nan.json").write_text('{"a": NaN}')
    for bad in ("list.json", "nan.json"):   # a file that is there but no JSON object: bad input, exit 1
        with pytest.raises(InputFileError, match=bad):
            _parse_input(f"@{tmp_path / bad}")
