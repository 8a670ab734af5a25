"""The flows take `environment` as --env does (issue 16): one flow run against the real server."""
from __future__ import annotations

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.clihelp import task_source
from tests.faultproxy import free_port

from idflow.flows.definitions import diff  # noqa: E402  (after the Prefect environment is set)

pytestmark = [pytest.mark.prefect, pytest.mark.server]


def test_the_diff_flow_reaches_the_server_of_its_environment(prefect_harness, project, prefix, conductor_url):
    dead = f"http://127.0.0.1:{free_port()}/api"
    text = project.config_path.read_text().replace(f"conductor_server_url: {conductor_url}",
                                                   f"conductor_server_url: {dead}")
    project.config_path.write_text(text + f"environments:\n  live:\n    conductor_server_url: {conductor_url}\n")
    name = f"{prefix}envflow"
    project.write_task(name, task_source(name))
    state = diff(task_names=[name], environment="live", return_state=True)
    doc = state.result(raise_on_failure=False)
    assert isinstance(doc, dict), doc
    assert doc["server_url"] == conductor_url and doc["counts"]["create"] == 1
    assert "env live" in _run_name(state)
    unknown = diff(task_names=[name], environment="staging", return_state=True)
    assert unknown.is_failed() and "known environments: live" in str(unknown.result(raise_on_failure=False).hint)


def _run_name(state) -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id).name
