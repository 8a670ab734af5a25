"""`idflow workflow status|terminate|retry`, `workflows new`, and the messages around `workflow run`,
end to end on the real server."""
from __future__ import annotations

import json
import os
import shutil
import uuid

import httpx
import pytest

from tests.clihelp import run_cli
from tests.test_worker import WorkerProcess, flat, wait_until
from tests.test_workflow_run import ADD, BOOM, _workflow


def _upload_stuck_workflow(project, prefix, capsys) -> str:
    """A workflow whose one task nobody polls: it stays RUNNING until terminated."""
    task, wf = prefix + "nobody_polls", prefix + "stuck"
    project.write_task(task, ADD.format(name=task))
    (project.workflows_dir / f"{wf}.json").write_text(json.dumps(_workflow(wf, (task, "add", {}))))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    assert run_cli(capsys, "workflows", "upload", "--all").code == 0
    return wf


@pytest.fixture
def runs(conductor_url):
    """Workflow ids started by a test; removed from the server afterwards."""
    started: list[str] = []
    yield started
    for workflow_id in started:
        httpx.delete(f"{conductor_url}/workflow/{workflow_id}", params={"reason": "test cleanup"})
        httpx.delete(f"{conductor_url}/workflow/{workflow_id}/remove")


@pytest.mark.server
def test_status_terminate_and_retry_a_run(project, prefix, client, runs, capsys):
    wf = _upload_stuck_workflow(project, prefix, capsys)
    started = run_cli(capsys, "workflow", "run", wf, "--json")
    workflow_id = started.json["workflowId"]
    runs.append(workflow_id)

    doc = run_cli(capsys, "workflow", "status", workflow_id, "--json")
    assert doc.code == 0 and doc.json["status"] == "RUNNING" and doc.json["name"] == wf
    assert [(t["ref"], t["status"]) for t in doc.json["tasks"]] == [("add", "SCHEDULED")]
    shown = run_cli(capsys, "workflow", "status", workflow_id)
    assert shown.code == 0 and f"{wf} v1 RUNNING {workflow_id}" in flat(shown.out)
    assert f"add {prefix}nobody_polls: SCHEDULED" in flat(shown.out)

    still_running = run_cli(capsys, "workflow", "retry", workflow_id)
    assert still_running.code == 1 and "is still RUNNING; nothing to retry" in flat(still_running.err)

    refused = run_cli(capsys, "workflow", "terminate", workflow_id)   # no terminal to ask on, no -y
    assert refused.code == 3 and "-y" in refused.err
    assert client.get_execution(workflow_id)["status"] == "RUNNING"

    stopped = run_cli(capsys, "workflow", "terminate", workflow_id, "-y", "--reason", "no longer needed", "--json")
    assert stopped.code == 0, stopped.err
    assert stopped.json == {"workflowId": workflow_id, "action": "terminate", "name": wf,
                            "previousStatus": "RUNNING", "status": "TERMINATED", "changed": True,
                            "reason": "no longer needed"}
    execution = client.get_execution(workflow_id)
    assert execution["status"] == "TERMINATED" and execution["reasonForIncompletion"] == "no longer needed"

    again = run_cli(capsys, "workflow", "terminate", workflow_id, "-y")
    assert again.code == 0 and "was already TERMINATED; nothing changed" in flat(again.out)

    retried = run_cli(capsys, "workflow", "retry", workflow_id)
    assert retried.code == 0, retried.err
    assert f"retried {wf} run {workflow_id}: TERMINATED -> RUNNING" in flat(retried.out)
    assert f"idflow workflow status {workflow_id}" in flat(retried.err)
    statuses = [t["status"] for t in client.get_execution(workflow_id)["tasks"]]
    assert statuses == ["CANCELED", "SCHEDULED"]   # the task runs again, from where it stopped


RUN_COMMANDS = [("status",), ("terminate", "-y"), ("retry",)]


@pytest.mark.server
@pytest.mark.parametrize("command", RUN_COMMANDS)
@pytest.mark.parametrize("unknown", [str(uuid.uuid4()), "abc", "..", "abc?x=1", "a%2Fb", "ünï"])
def test_an_unknown_run_id_is_an_error(project, command, unknown, capsys):
    result = run_cli(capsys, "workflow", command[0], unknown, *command[1:], "--json")
    assert result.code == 1
    assert result.json["error"]["message"] == f"execution id {unknown!r} not found: no workflow run has it on the server"


@pytest.mark.server
@pytest.mark.parametrize("command", RUN_COMMANDS)
@pytest.mark.parametrize("bad, why", [("abc/def", "a slash"), ("a\\b", "a backslash"), ("x" * 5000, "bytes long")])
def test_a_malformed_run_id_is_a_usage_error_about_the_execution_id(project, command, bad, why, capsys, fault_proxy):
    proxy = fault_proxy()
    result = run_cli(capsys, "--server-url", proxy.url, "workflow", command[0], bad, *command[1:], "--json")
    message = result.json["error"]["message"]
    assert result.code == 2 and message.startswith("invalid execution id") and why in message
    assert "definition" not in message and "written" not in message
    assert proxy.requests == []   # nothing asked, nothing changed


@pytest.mark.server
def test_new_without_local_tasks_runs_as_scaffolded_and_a_completed_run_is_final(project, prefix, runs, capsys):
    name = prefix + "hello"
    created = run_cli(capsys, "workflows", "new", name, "--json")
    assert created.code == 0, created.err
    path = project.workflows_dir / name / f"{name}.json"
    assert created.json["created"] == f"idflow/workflows/{name}/{name}.json" and path.is_file()
    assert json.loads(path.read_text())["tasks"][0]["type"] == "INLINE"   # no worker needed

    assert run_cli(capsys, "workflows", "upload", name).code == 0
    done = run_cli(capsys, "workflow", "run", name, "--input", '{"who": "idflow"}', "--wait", "--json")
    runs.append(done.json["workflowId"])
    assert done.code == 0 and done.json["output"] == {"greeting": "hello idflow"}

    finished = runs[-1]
    terminate = run_cli(capsys, "workflow", "terminate", finished, "-y")
    assert terminate.code == 1 and "already ended COMPLETED; nothing to terminate" in flat(terminate.err)
    retry = run_cli(capsys, "workflow", "retry", finished)
    assert retry.code == 1 and "COMPLETED; nothing to retry" in flat(retry.err)


@pytest.mark.server
def test_new_uses_a_local_task_and_never_overwrites(project, prefix, capsys):
    task, name = prefix + "alpha", prefix + "flow"
    older = project.write_task(prefix + "zeta", ADD.format(name=prefix + "zeta"))
    os.utime(older, (older.stat().st_atime, older.stat().st_mtime - 60))
    project.write_task(task, ADD.format(name=task))
    os.utime(older.parent.parent / task / f"{task}.py", None)
    # The task just made, not the first alphabetically: zeta is older, alpha newer.
    created = run_cli(capsys, "workflows", "new", name)
    assert created.code == 0, created.err
    assert f"idflow/workflows/{name}/{name}.json" in flat(created.out)
    path = project.workflows_dir / name / f"{name}.json"
    definition = json.loads(path.read_text())
    assert [(t["name"], t["type"]) for t in definition["tasks"]] == [(task, "SIMPLE")]
    chosen = run_cli(capsys, "workflows", "new", prefix + "chosen", "--task", prefix + "zeta", "--json")
    assert chosen.code == 0 and chosen.json["definition"]["tasks"][0]["name"] == prefix + "zeta"
    unknown = run_cli(capsys, "workflows", "new", prefix + "unknown", "--task", prefix + "nope", "--json")
    assert unknown.code == 1 and unknown.json["error"]["type"] == "NoSuchTask"
    assert not (project.workflows_dir / (prefix + "unknown")).exists()
    shutil.rmtree(project.workflows_dir / (prefix + "chosen"))
    listed = run_cli(capsys, "workflows", "list", "--local", "--json")
    assert listed.code == 0 and listed.json["workflows"][0]["tasks"] == [task]
    assert listed.json["errors"] == [] and listed.json["warnings"] == []

    path.write_text(path.read_text().replace("in one line", "edited"))
    before = path.read_text()
    again = run_cli(capsys, "workflows", "new", name)
    assert again.code == 3 and "already exists; nothing was written" in flat(again.err)
    assert path.read_text() == before
    (project.workflows_dir / "other.json").write_text(json.dumps(_workflow(prefix + "taken", (task, "a", {}))))
    taken = run_cli(capsys, "workflows", "new", prefix + "taken")
    assert taken.code == 3 and not (project.workflows_dir / (prefix + "taken")).exists()


@pytest.mark.parametrize("bad", ["", "1abc", "a b", "../up", "a/b", "näme", "x" * 201, "a.b", "a\nb"])
def test_new_refuses_bad_names(project, bad, capsys):
    result = run_cli(capsys, "workflows", "new", bad, "--json")
    assert result.code == 2 and result.json["error"]["type"] == "InvalidWorkflowName"
    assert list(project.workflows_dir.iterdir()) == []


@pytest.mark.parametrize("group, command, meant", [("workflows", "run", "workflow run"),
                                                   ("workflows", "status", "workflow status"),
                                                   ("workflow", "list", "workflows list"),
                                                   ("workflow", "new", "workflows new")])
def test_a_command_of_the_other_group_is_suggested(group, command, meant, capsys):
    result = run_cli(capsys, group, command, "x")
    assert result.code == 2 and f"Did you mean 'idflow {meant}'?" in result.err


@pytest.mark.server
def test_unknown_workflow_name_or_version_lists_what_the_server_has(project, prefix, capsys):
    wf = _upload_stuck_workflow(project, prefix, capsys)
    typo = run_cli(capsys, "workflow", "run", prefix + "stuk", "--json")
    assert typo.code == 1
    assert typo.json["error"]["message"] == f"no workflow named {prefix}stuk on the server"
    assert typo.json["error"]["hint"].startswith(f"workflows on the server: {wf}")   # the closest first
    version = run_cli(capsys, "workflow", "run", wf, "--version", "7")
    assert version.code == 1
    assert f"workflow {wf} has no version 7 on the server" in flat(version.err)
    assert "its versions: 1" in flat(version.err) and "No such workflow defined" not in version.err


@pytest.mark.server
def test_wait_timeout_says_how_to_follow_the_run(project, prefix, runs, capsys):
    wf = _upload_stuck_workflow(project, prefix, capsys)
    for extra in ((), ("--json",)):
        waited = run_cli(capsys, "workflow", "run", wf, "--wait", "--timeout", "0.5", *extra)
        workflow_id = flat(waited.err).split("workflow id ")[1].split()[0]
        runs.append(workflow_id)
        assert waited.code == 1
        assert f"follow it: idflow workflow status {workflow_id}" in flat(waited.err)
        if extra:
            assert waited.json["workflowId"] == workflow_id and waited.json["timedOut"] is True
        else:
            assert f"(id {workflow_id})" in flat(waited.out)


@pytest.mark.server
def test_the_worker_logs_one_line_per_execution(project, prefix, client, runs, capsys):
    add, boom, wf = prefix + "add", prefix + "boom", prefix + "both"
    project.write_task(add, ADD.format(name=add))
    project.write_task(boom, BOOM.format(name=boom))
    (project.workflows_dir / f"{wf}.json").write_text(json.dumps(_workflow(
        wf, (add, "add", {"a": 1, "b": 2}), (boom, "boom", {"what": "x"}))))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    assert run_cli(capsys, "workflows", "upload", "--all").code == 0
    with WorkerProcess(project.root, "--all") as worker:
        worker.wait_for("polling")
        failed = run_cli(capsys, "workflow", "run", wf, "--wait", "--timeout", "30", "--json")
        runs.append(failed.json["workflowId"])
        assert failed.json["status"] == "FAILED"
        ids = {t["task"]: t["taskId"] for t in failed.json["tasks"]}
        assert wait_until(lambda: f"id {ids[boom]}: FAILED in " in worker.err), worker.err
        worker.stop()
    lines = [line for line in worker.lines if f"INFO    idflow.worker.pool: task {prefix}" in line]
    assert len(lines) == 2, worker.err
    assert f"task {add} id {ids[add]}: COMPLETED in " in lines[0] and lines[0].rstrip().endswith(" s")
    assert f"task {boom} id {ids[boom]}: FAILED in " in lines[1]


def _in_progress():
    from conductor.client.context.task_context import TaskInProgress

    return TaskInProgress(callback_after_seconds=5)


def _boom():
    raise ValueError("boom")


def _terminal():
    from conductor.client.worker.exception import NonRetryableException

    raise NonRetryableException("never again")


@pytest.mark.parametrize("body, expected", [(lambda: {"ok": 1}, "COMPLETED"), (lambda: None, "COMPLETED"),
                                            (_in_progress, "IN_PROGRESS"), (_boom, "FAILED"),
                                            (_terminal, "FAILED_WITH_TERMINAL_ERROR")])
def test_each_execution_is_one_info_line(body, expected, caplog):
    from conductor.client.http.models.task import Task

    from idflow.worker.contract import adapt

    def my_task() -> dict:
        return body()

    call = adapt(my_task)
    task = Task(task_def_name="my_task", task_id="id-42", input_data={})
    with caplog.at_level("INFO", logger="idflow.worker.pool"):
        try:
            call(task)
        except Exception:
            pass
    [record] = [r for r in caplog.records if r.name == "idflow.worker.pool"]
    assert record.levelname == "INFO"
    assert record.getMessage().startswith(f"task my_task id id-42: {expected} in ")


def test_a_missing_input_key_is_logged_as_a_terminal_failure(caplog):
    from conductor.client.http.models.task import Task

    from idflow.worker.contract import adapt

    def needs(key: str) -> dict:
        return {}

    with caplog.at_level("INFO", logger="idflow.worker.pool"), pytest.raises(Exception):
        adapt(needs)(Task(task_def_name="needs", task_id="id-7", input_data={}))
    assert [r.getMessage().split(" in ")[0] for r in caplog.records if r.name == "idflow.worker.pool"] == \
        ["task needs id id-7: FAILED_WITH_TERMINAL_ERROR"]
