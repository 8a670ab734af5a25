"""The Prefect flows against the real Conductor server, under one Prefect test server per session."""
from __future__ import annotations

import json
import shutil
from types import SimpleNamespace

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.clihelp import task_source

from flows import idflow_flows as flows  # noqa: E402  (after the Prefect environment is set)
from idflow.flows.runner import only_transient
from idflow.base.errors import ConnectionFailed, RefusedError, ServerUnavailable, ValidationFailed
from idflow.base.errors import InvalidDefinitions

pytestmark = [pytest.mark.prefect, pytest.mark.server]


def write(project, name, **kw):
    project.write_task(name, task_source(name, **kw))


def remove_task(project, name):
    shutil.rmtree(project.tasks_dir / name)


def own_project(project, prefix, **extra):
    """Give the temp project its own identity, so its orphans are only its own on the shared server."""
    settings = {"project": f"{prefix}proj", **extra}
    kept = [line for line in project.config_path.read_text().splitlines() if line.split(":")[0] not in settings]
    project.config_path.write_text("\n".join(kept + [f"{k}: {v}" for k, v in settings.items()]) + "\n")


def artifact(prefect_client, state, key):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    found = prefect_client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    assert len(found) == 1, f"expected one {key} artifact, got {len(found)}"
    return found[0].data


def task_runs(prefect_client, state):
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    runs = prefect_client.read_task_runs(
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    return {r.name: r for r in runs}


# ---- retry_condition_fn: only transient failures -------------------------------------------
@pytest.mark.parametrize("exc, retried", [
    (ServerUnavailable("503"), True), (ConnectionFailed("down"), True),
    (ValidationFailed("bad"), False), (RefusedError("no"), False),
    (InvalidDefinitions("broken", []), False), (ValueError("bug"), False)])
def test_only_transient_failures_are_retried(exc, retried):
    assert only_transient(None, None, SimpleNamespace(data=exc)) is retried


# ---- against the servers ---------------------------------------------------------------------
def test_upload_flow_uploads_then_a_rerun_writes_nothing(prefect_harness, project, prefix, client):
    a, b = prefix + "a", prefix + "b"
    write(project, a, retry_count=2)
    write(project, b)
    first = flows.upload()
    assert sorted(first["created"]) == [a, b] and first["failed"] == []
    assert first["not_attempted"] == [] and first["plan"]["counts"]["create"] == 2
    assert client.get_taskdef(a)["retryCount"] == 2
    again = flows.upload()
    assert again["created"] == [] and again["updated"] == [] and sorted(again["unchanged"]) == [a, b]
    json.dumps(again)  # the return value is plain JSON


def test_diff_flow_completes_with_drift_and_publishes_the_changed_task(prefect_harness, prefect_client, project,
                                                                          prefix):
    a, b = prefix + "a", prefix + "b"
    write(project, a, retry_count=1)
    write(project, b)
    flows.upload()
    in_sync = flows.diff(return_state=True)
    assert in_sync.is_completed() and in_sync.result()["drift"] is False
    write(project, a, retry_count=4)
    state = flows.diff(return_state=True)
    assert state.is_completed()
    assert state.message == "Drift: 0 to create, 1 to update, 0 orphaned"
    doc = state.result()
    assert doc["drift"] is True and doc["counts"]["update"] == 1
    markdown = artifact(prefect_client, state, "idflow-plan")
    row = next(line for line in markdown.splitlines() if line.startswith(f"| {a} |"))
    assert "update" in row and "retryCount: 1 → 4" in row
    assert f"| {b} |" not in markdown  # unchanged tasks are listed, not tabled


def test_purge_orphaned_flow_keeps_what_a_workflow_uses(prefect_harness, prefect_client, project, prefix, client):
    own_project(project, prefix)
    used, free, kept = prefix + "used", prefix + "free", prefix + "kept"
    for name in (used, free, kept):
        write(project, name)
    flows.upload()
    client.upsert_workflows([{"name": prefix + "wf", "version": 1, "schemaVersion": 2,
                              "tasks": [{"name": used, "taskReferenceName": "u", "type": "SIMPLE"}]}])
    for name in (used, free):
        remove_task(project, name)
    dry = flows.purge_orphaned(dry_run=True)
    assert dry["would_delete"] == [free] and dry["deleted"] == []
    state = flows.purge_orphaned(return_state=True)
    doc = state.result()
    assert doc["deleted"] == [free] and doc["backup"]
    skipped = {s["name"]: s for s in doc["skipped"]}
    assert skipped[used]["used_by"] == [f"{prefix}wf v1 tasks[0]"]
    names = {d["name"] for d in client.list_taskdefs()}
    assert used in names and kept in names and free not in names
    plan_md = artifact(prefect_client, state, "idflow-purge-plan")
    assert f"| {used} | keep | used by workflows" in plan_md and f"| {free} | delete | orphaned" in plan_md


def test_a_transient_failure_is_retried_by_prefect_and_the_run_completes(prefect_harness, prefect_client, project,
                                                                           prefix, fault_proxy, client):
    name = prefix + "t"
    write(project, name)
    proxy = fault_proxy()
    own_project(project, prefix, max_retries=1, conductor_server_url=proxy.url)
    # More 503s than the client's own retries (1 + 1 tries): only Prefect's task retry gets through.
    proxy.add_rule(method="GET", path="/api/metadata/taskdefs", action="status", status=503, times=2)
    state = flows.upload(return_state=True)
    assert state.is_completed(), state.message
    assert state.result()["created"] == [name]
    assert task_runs(prefect_client, state)["fetch task definitions"].run_count == 2
    assert client.get_taskdef(name)["name"] == name


def test_a_transient_write_failure_is_retried_by_prefect(prefect_harness, prefect_client, project, prefix,
                                                         fault_proxy, client):
    name = prefix + "w"
    write(project, name)
    proxy = fault_proxy()
    own_project(project, prefix, max_retries=1, conductor_server_url=proxy.url)
    proxy.add_rule(method="POST", path="/api/metadata/taskdefs", action="status", status=503, times=2)
    state = flows.upload(return_state=True)
    assert state.is_completed(), state.message
    doc = state.result()
    assert doc["created"] == [name] and doc["failed"] == [] and doc["not_attempted"] == []
    assert task_runs(prefect_client, state)["apply writes"].run_count == 2
    assert proxy.count("POST", "/api/metadata/taskdefs") == 3


def test_discover_flow_lists_tasks_and_problems(prefect_harness, prefect_client, project, prefix):
    write(project, prefix + "ok")
    project.write_task(prefix + "broken", "from idflow import worker_task\n\ndef broken(:\n")
    state = flows.discover(return_state=True)
    assert state.is_completed() and state.message == "1 problem(s) in the task files"
    doc = state.result()
    assert [t["name"] for t in doc["tasks"] if t["valid"]] == [prefix + "ok"]
    assert doc["errors"][0]["path"].endswith("broken.py")
    assert f"| {prefix}ok | yes |" in artifact(prefect_client, state, "idflow-discovery")


def test_a_non_transient_failure_fails_at_once(prefect_harness, prefect_client, project, prefix, fault_proxy):
    write(project, prefix + "t")
    proxy = fault_proxy()
    own_project(project, prefix, conductor_server_url=proxy.url)
    proxy.add_rule(method="GET", path="/api/metadata/taskdefs", action="status", status=400, times=5)
    state = flows.upload(return_state=True)
    assert state.is_failed()
    with pytest.raises(ValidationFailed):
        state.result()
    assert proxy.count("GET", "/api/metadata/taskdefs") == 1
    assert task_runs(prefect_client, state)["fetch task definitions"].run_count == 1


def test_invalid_definitions_fail_the_run_with_the_reason(prefect_harness, prefect_client, project, prefix, client):
    write(project, prefix + "ok")
    project.write_task(prefix + "broken", "from idflow import worker_task\n\ndef broken(:\n")
    state = flows.upload(return_state=True)
    assert state.is_failed() and "problem(s) in the task files" in state.message
    with pytest.raises(InvalidDefinitions):
        state.result()
    assert "broken" in artifact(prefect_client, state, "idflow-refused")
    assert prefix + "ok" not in {d["name"] for d in client.list_taskdefs()}


def test_sync_flow_uploads_and_prunes(prefect_harness, project, prefix, client):
    own_project(project, prefix)
    keep, gone = prefix + "keep", prefix + "gone"
    write(project, keep)
    write(project, gone)
    assert sorted(flows.sync()["upload"]["created"]) == [gone, keep]
    remove_task(project, gone)
    write(project, keep, retry_count=7)
    doc = flows.sync(prune=True)
    assert doc["upload"]["updated"] == [keep] and doc["purge"]["deleted"] == [gone]
    assert client.get_taskdef(keep)["retryCount"] == 7


# ---- the CLI's --prefect runner ------------------------------------------------------------
def test_run_as_flow_returns_the_result_and_prints_the_run_url(prefect_harness, project, prefix, capsys):
    from idflow.cli.prefect_bridge import run_as_flow

    name = prefix + "bridged"
    write(project, name)
    doc = run_as_flow("upload", {"task_names": [name]})
    assert doc["created"] == [name]
    err = capsys.readouterr().err
    assert "/runs/flow-run/" in err and "upload " + name in err
    drift = run_as_flow("diff", {"task_names": None})
    assert drift["drift"] is False and name in [i["name"] for i in drift["items"]]


def test_run_as_flow_passes_refusals_through(prefect_harness, project, prefix):
    from idflow.cli.prefect_bridge import run_as_flow

    project.write_task(prefix + "broken", "from idflow import worker_task\n\ndef broken(:\n")
    with pytest.raises(InvalidDefinitions) as caught:
        run_as_flow("upload", {})
    assert caught.value.exit_code == 1 and caught.value.issues


def test_prefect_flag_without_prefect_installed_says_how_to_install_it(project, capsys, monkeypatch):
    """The CLI installs without Prefect (`pip install idflow`): --prefect then says what to add."""
    from idflow.cli import prefect_bridge
    from tests.clihelp import run_cli

    monkeypatch.setattr(prefect_bridge, "prefect_installed", lambda: False)
    done = run_cli(capsys, "tasks", "diff", "--prefect", "--json")
    assert done.code == 1 and "not installed" in done.json["error"]["message"]
    assert "idflow[prefect-client]" in done.json["error"]["hint"] and "idflow[prefect]" in done.json["error"]["hint"]
    assert prefect_bridge.prefect_api_url() is None


def test_run_as_flow_without_a_prefect_server_says_how_to_start_one(prefect_harness):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from idflow.cli.prefect_bridge import run_as_flow
    from idflow.base.errors import IdflowError
    from tests.faultproxy import free_port

    with temporary_settings(restore_defaults={PREFECT_API_URL}):
        with pytest.raises(IdflowError, match="PREFECT_API_URL is not set") as caught:
            run_as_flow("upload", {})
    assert "prefect server start" in caught.value.hint
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):
        with pytest.raises(IdflowError, match="does not answer"):
            run_as_flow("diff", {})


def test_the_api_key_comes_from_a_secret_block_and_shows_nowhere(prefect_harness, prefect_client, project, prefix,
                                                                 fault_proxy, monkeypatch):
    from prefect.blocks.system import Secret

    secret, var = f"sk-{prefix}not-for-eyes", f"IDFLOW_TEST_KEY_{prefix.upper()}"
    Secret(value=secret).save(f"{prefix.replace('_', '-')}key", overwrite=True)
    monkeypatch.setenv(var, "")  # empty: the block fills it; restored after the test
    proxy = fault_proxy()
    own_project(project, prefix, conductor_server_url=proxy.url, conductor_api_key_env_var=var,
                prefect_secret_block=f"{prefix.replace('_', '-')}key")
    write(project, prefix + "s")
    state = flows.upload(return_state=True)
    assert state.is_completed()
    assert {r.headers.get("X-Authorization") for r in proxy.requests} == {secret}
    shown = json.dumps(state.result()) + artifact(prefect_client, state, "idflow-plan") \
        + artifact(prefect_client, state, "idflow-result")
    run = prefect_client.read_flow_run(state.state_details.flow_run_id)
    assert secret not in shown + json.dumps(run.parameters)
