"""Workflow ownership, three-way states and usage, pure (the server path: tests/test_workflows_parity.py)."""
from __future__ import annotations

import pytest

from idflow.engine.ledger import Ledger
from idflow.workflowdefs.diff import VersionDiff, WorkflowDiff
from idflow.workflowdefs.ownership import Ownership, ownership
from idflow.workflowdefs.pulling import workflow_hash
from idflow.workflowdefs.usage import build_workflow_usage, references


def wf(description: str, version: int = 1) -> dict:
    return {"name": "w", "version": version, "description": description,
            "tasks": [{"name": "t", "taskReferenceName": "t", "type": "SIMPLE"}]}


@pytest.mark.parametrize("base, local, server, state", [
    ("a", "a", "a", "in_sync"),
    ("a", "b", "a", "code_changed"),
    ("a", "a", "b", "server_changed"),
    ("a", "b", "c", "conflict"),
    (None, "b", "c", "uncertain"),
    ("a", None, "a", "orphaned"),
    ("a", None, "b", "uncertain"),
    (None, None, "b", "not_ours"),
    ("a", "a", None, "local_only"),
])
def test_each_three_way_state(base, local, server, state):
    ledger = Ledger("p", {"w v1": workflow_hash(wf(base))} if base else {}, "workflows")
    found = ownership("w", 1, wf(local) if local else None, wf(server) if server else None, ledger)
    assert found.state == state


def test_without_an_identity_nothing_is_ours():
    assert ownership("w", 1, None, wf("a"), None).state == "uncertain"
    assert ownership("w", 1, wf("b"), wf("a"), None).state == "uncertain"


def test_an_orphan_is_drift_as_for_tasks():
    orphan = VersionDiff("w", 1, "remote_only", Ownership("orphaned"))
    foreign = VersionDiff("x", 1, "remote_only", Ownership("not_ours"))
    assert WorkflowDiff([orphan]).drift and not WorkflowDiff([foreign]).drift


def test_references_and_run_time_choices():
    definition = {"name": "p", "tasks": [
        {"name": "s", "taskReferenceName": "s", "type": "SUB_WORKFLOW", "subWorkflowParam": {"name": "c", "version": 2}},
        {"name": "d", "taskReferenceName": "d", "type": "SUB_WORKFLOW",
         "subWorkflowParam": {"name": "${workflow.input.which}"}},
        {"name": "i", "taskReferenceName": "i", "type": "SUB_WORKFLOW",
         "subWorkflowParam": {"name": "inline", "workflowDefinition": {"name": "inline", "tasks": []}}}]}
    found, doubts = references(definition)
    assert found == [("c", 2, "tasks[0]")]
    assert doubts == ["tasks[1] (SUB_WORKFLOW: sub-workflow name chosen at run time)"]


def test_an_unversioned_reference_uses_the_latest_only():
    usage = build_workflow_usage([{"name": "p", "version": 1, "tasks": [
        {"name": "s", "taskReferenceName": "s", "type": "SUB_WORKFLOW", "subWorkflowParam": {"name": "c"}}]}])
    assert usage.uses_of("c", 2, latest=2) and not usage.uses_of("c", 1, latest=2)
    assert not usage.uses_of("c", 2, latest=2, ignore=[("p", 1)])   # the user goes in the same purge
    assert usage.notes == ["server has no schedules (no scheduler API): none checked"]
