"""The Prefect purge_orphaned flow keeps every definition a workflow can use (real servers).

The same workflows as tests/test_purge_usage.py, registered on the real Conductor server;
the flow runs under the session's Prefect test server. The flow has no --force: that the
definition can still be deleted on purpose is proven by the CLI tests.
"""
from __future__ import annotations

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.test_purge_usage import CASES, assert_kept_and_explained, orphan_on_server, register, usage_cases

from flows import idflow_flows as flows  # noqa: E402  (after the Prefect environment is set)

pytestmark = [pytest.mark.prefect, pytest.mark.server]


def purge_plan_artifact(prefect_client, state) -> str:
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    found = prefect_client.read_artifacts(
        artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["idflow-purge-plan"])),
        flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])))
    assert len(found) == 1
    return found[0].data


@pytest.mark.parametrize("case", CASES)
def test_purge_orphaned_flow_keeps_a_definition_a_workflow_can_use(prefect_harness, prefect_client, project, prefix,
                                                                   client, case):
    task = prefix + "target"
    orphan_on_server(client, project, task)
    place = register(client, prefix, case, task)
    state = flows.purge_orphaned(return_state=True)
    assert state.is_completed(), state.message
    doc = state.result()
    assert_kept_and_explained(doc, task, place, usage_cases(task, prefix)[case][2])
    assert client.get_taskdef(task)["name"] == task
    markdown = purge_plan_artifact(prefect_client, state)
    assert f"| {task} | keep |" in markdown and f"{prefix}wf v1" in markdown
