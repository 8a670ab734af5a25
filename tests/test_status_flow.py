"""The `status` flow: a named state (Unserved, Failing) like Drift, the idflow-status artifact with
the task rows, and `tasks status --prefect` printing the in-process document plus `flow_run`."""
from __future__ import annotations

import json

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.clihelp import run_cli, task_source
from tests.test_cli_flow_contract import both
from tests.test_worker import wait_until

from flows import idflow_flows as flows  # noqa: E402  (after the Prefect environment is set)

pytestmark = [pytest.mark.prefect, pytest.mark.server]
VOLATILE = ("generated_at_ms", "age_seconds", "last_poll_age", "last_poll_ms", "requests")


def artifact(prefect_client, state, key="idflow-status"):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    found = prefect_client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    assert len(found) == 1
    return found[0]


@pytest.fixture(autouse=True)
def runs_ended(client, monkeypatch):
    """Every workflow a test starts is terminated afterwards: no queue is left on the shared server."""
    started: list[str] = []
    start = client.start_workflow

    def recording(*args, **kwargs):
        started.append(start(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(client, "start_workflow", recording)
    yield
    from idflow.base.errors import ConductorError

    for workflow_id in started:
        try:
            client.terminate_workflow(workflow_id, "test done")
        except ConductorError:
            pass  # it had ended (409)


def uploaded(project, capsys, *names):
    """Task files and one workflow per task, uploaded."""
    for name in names:
        project.write_task(name, task_source(name, retry_count=0, response_timeout_seconds=30))
        (project.workflows_dir / f"{name}_wf.json").write_text(json.dumps(
            {"name": name + "_wf", "version": 1, "schemaVersion": 2,
             "tasks": [{"name": name, "taskReferenceName": "t", "type": "SIMPLE"}]}))
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0
    assert run_cli(capsys, "workflows", "upload", "--all", "--json").code == 0


def fail_one(conductor_url, client, name):
    """A worker's poll and a FAILED update, through the task API (the flow must see one failure)."""
    import httpx

    client.start_workflow(name + "_wf", {})
    task = wait_until(lambda: httpx.get(f"{conductor_url}/tasks/poll/{name}", params={"workerid": "flow-test"}).text
                      or None, timeout=30)
    task = json.loads(task)
    httpx.post(f"{conductor_url}/tasks", json={"taskId": task["taskId"], "workflowInstanceId": task["workflowInstanceId"],
                                                "status": "FAILED", "workerId": "flow-test",
                                                "reasonForIncompletion": "injected"}).raise_for_status()


@pytest.mark.parametrize("fail_on_attention", [False, True])
def test_queued_work_without_a_worker_ends_the_run_in_a_state_named_unserved(
        prefect_harness, prefect_client, project, prefix, client, capsys, fail_on_attention):
    name = prefix + "waits"
    uploaded(project, capsys, name)
    client.start_workflow(name + "_wf", {})
    assert wait_until(lambda: client.queue_sizes().get(name) == 1, timeout=30)
    state = flows.status(task_names=[name], fail_on_attention=fail_on_attention, return_state=True)
    assert state.name == "Unserved" and state.is_failed() is fail_on_attention
    assert state.message == "1 unserved (0 of 1 local task(s) have a polling worker)"
    from idflow.flows.outcome import document_of

    doc = document_of(state.result(raise_on_failure=False))   # a failed end carries it in its exception
    assert [t["attention"] for t in doc["tasks"]] == [["unserved"]]
    shown = artifact(prefect_client, state)
    lines = shown.data.splitlines()
    assert lines[0] == "# " + state.message and shown.description == state.message
    row = next(line for line in lines if line.startswith(f"| {name} |"))
    assert row.startswith(f"| {name} | **unserved** | in sync | yes | 1 | 0 | never |")


def test_a_failure_rate_over_the_threshold_ends_in_a_state_named_failing(prefect_harness, prefect_client, project,
                                                                        prefix, client, capsys, conductor_url):
    name = prefix + "fails"
    uploaded(project, capsys, name)
    fail_one(conductor_url, client, name)
    state = wait_until(lambda: (lambda s: s if s.name != "Completed" else None)(
        flows.status(task_names=[name], return_state=True)), timeout=60)
    assert state, "the flow never saw the failure"
    doc = state.result()
    if doc["search"] != "indexed":
        pytest.skip("this server indexes no execution (3.21's memory store): failures cannot be seen")
    assert state.name == "Failing" and state.is_completed()
    [row] = doc["tasks"]
    assert (row["failed"], row["failure_rate"], row["attention"]) == (1, 1.0, ["failing"])
    assert "| 100% |" in artifact(prefect_client, state).data


def test_nothing_to_attend_to_completes_plainly(prefect_harness, project, prefix, capsys):
    name = prefix + "quiet"
    uploaded(project, capsys, name)
    state = flows.status(task_names=[name], return_state=True)
    assert state.is_completed() and state.name == "Completed"
    assert state.message == "All served (0 of 1 local task(s) have a polling worker)"


def test_the_cli_prints_the_flows_document_with_prefect(prefect_harness, project, prefix, client, capsys):
    names = [prefix + "a", prefix + "b"]
    uploaded(project, capsys, *names)
    client.start_workflow(names[0] + "_wf", {})
    assert wait_until(lambda: client.queue_sizes().get(names[0]) == 1, timeout=30)
    plain, direct, flowed = both(capsys, prefix, "tasks", "status", *names, "--fail-on", "unserved")
    assert plain.code == 4

    def steady(doc):
        def walk(node):
            if isinstance(node, dict):
                return {k: walk(v) for k, v in node.items() if k not in VOLATILE}
            return [walk(v) for v in node] if isinstance(node, list) else node
        return walk(doc)

    assert steady(direct) == steady(flowed)
    assert [t["attention"] for t in direct["tasks"]] == [["unserved"], []]
