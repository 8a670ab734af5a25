"""Drift is visible in Prefect: the diff flow's state name and message, the plan artifact's
title, and `fail_on_drift`; the flow and `tasks diff` agree on what drift is."""
from __future__ import annotations

import shutil

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.clihelp import run_cli, task_source

from flows import idflow_flows as flows  # noqa: E402  (after the Prefect environment is set)
from idflow.flows.artifacts import drift_summary
from idflow.flows.outcome import RunEnded, document_of

pytestmark = [pytest.mark.prefect, pytest.mark.server]


@pytest.mark.parametrize("counts, drift, expected", [
    ({"create": 2, "update": 1, "orphaned": 1}, True, "Drift: 2 to create, 1 to update, 1 orphaned"),
    ({"create": 0, "update": 3}, True, "Drift: 0 to create, 3 to update, 0 orphaned"),
    ({"create": 0, "update": 0, "orphaned": 2}, True, "Drift: 0 to create, 0 to update, 2 orphaned"),
    ({"create": 0, "update": 0, "orphaned": 0, "unchanged": 4}, False, "In sync"),
    ({"create": 0, "update": 0, "orphaned": 2}, False, "In sync (2 orphaned)"),
])
def test_drift_summary_says_what_was_found(counts, drift, expected):
    assert drift_summary(counts, drift=drift) == expected


def write(project, name, **kw):
    project.write_task(name, task_source(name, **kw))


def plan_artifact(prefect_client, state):
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    found = prefect_client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["idflow-plan"])),
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    assert len(found) == 1
    return found[0]


@pytest.fixture
def drifted(prefect_harness, project, prefix, capsys):
    """One task to create, one to update, one orphaned (uploaded by this project, file gone)."""
    new, changed, gone = prefix + "new", prefix + "changed", prefix + "gone"
    write(project, changed, retry_count=1)
    write(project, gone)
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0
    shutil.rmtree(project.tasks_dir / gone)
    write(project, changed, retry_count=5)
    write(project, new)
    return project


@pytest.mark.parametrize("fail_on_drift", [False, True])
def test_a_diff_that_finds_drift_ends_in_a_state_named_drift_with_the_counts(drifted, prefect_client, capsys,
                                                                             fail_on_drift):
    state = flows.diff(fail_on_drift=fail_on_drift, return_state=True)
    assert state.name == "Drift"
    assert state.is_failed() is fail_on_drift and state.is_completed() is not fail_on_drift
    assert state.message == "Drift: 1 to create, 1 to update, 1 orphaned"
    result = state.result(raise_on_failure=False)
    # A failed state's data is an exception with the short message (what a deployment's engine
    # resolves); the document rides along for an in-process caller only.
    assert isinstance(result, RunEnded if fail_on_drift else dict)
    doc = document_of(result)
    assert doc["drift"] is True and doc["counts"]["orphaned"] == 1
    cli = run_cli(capsys, "tasks", "diff", "--json")
    assert cli.code == 4 and cli.json["counts"] == doc["counts"]  # orphans counted as the CLI counts them
    found = plan_artifact(prefect_client, state)
    assert found.data.splitlines()[0] == "# Drift: 1 to create, 1 to update, 1 orphaned"
    assert found.description.startswith("Drift: 1 to create, 1 to update, 1 orphaned.")


@pytest.mark.parametrize("fail_on_drift", [False, True])
def test_a_diff_in_sync_completes_plainly_and_says_in_sync(prefect_harness, prefect_client, project, prefix,
                                                           capsys, fail_on_drift):
    write(project, prefix + "same", retry_count=2)
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0
    state = flows.diff(fail_on_drift=fail_on_drift, return_state=True)
    assert state.is_completed() and state.name == "Completed"
    assert plan_artifact(prefect_client, state).data.splitlines()[0] == "# In sync"


def test_orphans_alone_are_drift_exactly_when_the_cli_says_so(prefect_harness, project, prefix, capsys):
    """The flow takes drift from the use case the CLI uses: whether orphans alone are drift
    (issue 16's other half may make them so), the flow's state and `tasks diff`'s exit agree."""
    kept, gone = prefix + "kept", prefix + "gone"
    write(project, kept)
    write(project, gone)
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0
    shutil.rmtree(project.tasks_dir / gone)
    cli = run_cli(capsys, "tasks", "diff", "--json")
    state = flows.diff(return_state=True)
    assert cli.json["counts"]["orphaned"] == 1 and state.result()["counts"] == cli.json["counts"]
    assert (state.name == "Drift") is (cli.code == 4)
    expected = "Drift: 0 to create, 0 to update, 1 orphaned" if cli.code == 4 else "In sync (1 orphaned)"
    assert (state.message if cli.code == 4 else drift_summary(cli.json["counts"], drift=False)) == expected


def test_a_server_edit_is_drift_the_flow_names_and_the_artifact_shows(prefect_harness, project, prefix, client,
                                                                      prefect_client, capsys):
    name = prefix + "edited"
    write(project, name, retry_count=1)
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0
    copy = client.get_taskdef(name)
    copy["retryCount"] = 6
    client.upsert_taskdefs([copy])
    state = flows.diff(return_state=True)
    assert state.name == "Drift" and "1 edited on the server" in state.message
    artifact = plan_artifact(prefect_client, state)
    assert "edited_on_server" in artifact.data and "retryCount: 6" in artifact.data
    upload = flows.upload(return_state=True)
    assert upload.is_failed() and client.get_taskdef(name)["retryCount"] == 6


def test_the_drift_alert_automation_fires_on_the_drift_event_and_says_what_was_found(capsys):
    """Its shape (run on a real server by tests/test_prefect_guide.py); a wrong call is a usage error."""
    import uuid

    from prefect.automations import Automation

    from idflow.flows import alerts

    spec = alerts.automation_spec(str(uuid.uuid4()))
    automation = Automation.model_validate(spec)
    assert automation.trigger.expect == {"prefect.flow-run.Drift"} and automation.trigger.threshold == 1
    assert "{{ flow_run.name }}" in automation.actions[0].subject
    assert alerts.main([]) == 2 and alerts.main(["hooks.example.invalid"]) == 2
    assert "usage: python -m idflow.flows.alerts WEBHOOK_URL" in capsys.readouterr().err
