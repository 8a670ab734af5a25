"""The flows made from the registry (idflow.flows.factory) end as every idflow flow does: a step's transient
failure is retried by Prefect, a partial write ends Failed with the account, a refusal ends Failed with
the reason, each with its artifact. Against the real Conductor server, under the Prefect test server."""
from __future__ import annotations

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.eventhelp import handler, handler_prefix  # noqa: F401  (fixture)
from tests.test_flows import artifact, own_project, task_runs

from flows import idflow_flows as flows  # noqa: E402  (after the Prefect environment is set)
from idflow.base.errors import IdflowError
from idflow.flows.outcome import RunEnded

pytestmark = [pytest.mark.prefect, pytest.mark.server]


def handlers_of(project, handler_prefix):
    from tests.test_events_cli import write_handlers

    names = [handler_prefix + "a", handler_prefix + "b"]
    wf = handler_prefix + "wf"
    write_handlers(project, wf, [handler(n, f"conductor:{wf}:{n}", start=wf) for n in names])
    return names


def test_a_transient_write_failure_is_retried_at_the_step(prefect_harness, prefect_client, project, handler_prefix,
                                                          fault_proxy, client):
    names = handlers_of(project, handler_prefix)
    proxy = fault_proxy()
    own_project(project, handler_prefix, max_retries=1, conductor_server_url=proxy.url)
    proxy.add_rule(method="POST", path="/api/event", action="status", status=503, times=2)
    state = flows.events_upload(return_state=True)
    assert state.is_completed(), state.message
    assert sorted(state.result()["created"]) == names
    assert task_runs(prefect_client, state)["write handlers"].run_count == 2
    assert set(names) <= {h["name"] for h in client.list_event_handlers()}


def test_a_partial_write_ends_failed_with_the_account(prefect_harness, prefect_client, project, handler_prefix,
                                                      fault_proxy):
    handlers_of(project, handler_prefix)
    proxy = fault_proxy()
    own_project(project, handler_prefix, conductor_server_url=proxy.url)
    proxy.add_rule(method="POST", path="/api/event", action="status", status=400, times=100)
    state = flows.events_upload(return_state=True)
    assert state.is_failed() and "not done" in state.message and handler_prefix in state.message
    ended = state.result(raise_on_failure=False)
    assert isinstance(ended, RunEnded) and ended.document["created"] == []
    assert handler_prefix + "a" in artifact(prefect_client, state, "idflow-events-upload")


def test_a_refusal_ends_failed_with_the_reason(prefect_harness, prefect_client, project, prefix):
    state = flows.rollback(to="no-such-revision", return_state=True)
    assert state.is_failed()
    with pytest.raises(IdflowError) as raised:
        state.result()
    assert raised.value.message in artifact(prefect_client, state, "idflow-refused")
    assert state.message == raised.value.message
