"""Every plan and outcome is data that round-trips: from_json(to_json(x)) says the same again.

The CLI's --json, the flows' return values and the artifacts all use these documents, so a
field dropped on the way would be lost for one of them. Built from real operations on the real server.
"""
from __future__ import annotations

import json
import shutil

import pytest

from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server


def again(kind, value):
    """to_json -> JSON text -> from_json -> to_json: the document must not change."""
    doc = json.loads(json.dumps(value.to_json(), default=str))
    back = kind.from_json(doc)
    assert back.to_json() == value.to_json()
    assert back == value   # nothing the document left out: the object itself comes back
    return doc


@pytest.fixture
def session(project, prefix, capsys):
    """A project with a changed, a new, an unchanged and an orphaned task, and a workflow using one."""
    from idflow.project.config import load_config
    from idflow.usecases import Session

    for key in ("same", "changed", "orphan"):
        project.write_task(prefix + key, task_source(prefix + key, retry_count=1))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    shutil.rmtree(project.tasks_dir / (prefix + "orphan"))
    project.write_task(prefix + "changed", task_source(prefix + "changed", retry_count=4))
    project.write_task(prefix + "new", task_source(prefix + "new"))
    (project.workflows_dir / "wf.json").write_text(json.dumps(
        {"name": prefix + "wf", "version": 1, "tasks": [
            {"name": prefix + "same", "taskReferenceName": "a", "type": "SIMPLE"},
            {"name": prefix + "nowhere", "taskReferenceName": "b", "type": "SIMPLE"}]}), encoding="utf-8")
    with Session(load_config()) as s:
        yield s


def test_discovery(session):
    from idflow.discovery import Discovery
    from idflow.usecases import discover

    doc = again(Discovery, discover(session.config))
    assert {t["form"] for t in doc["tasks"]} == {"idflow"} and all("keywords" in t for t in doc["tasks"])


def test_diff_upload_and_apply(session, prefix):
    from idflow import usecases
    from idflow.taskdefs.apply import ApplyResult

    planned = usecases.diff(session)
    doc = again(usecases.UploadPlan, planned)
    assert {i["action"] for i in doc["items"] if i["name"].startswith(prefix)} == {"unchanged", "update", "create",
                                                                                   "orphaned"}
    again(usecases.UploadOutcome, usecases.upload(session, dry_run=True))
    outcome = usecases.upload(session)
    again(usecases.UploadOutcome, outcome)
    again(ApplyResult, outcome.result)


def test_purge_and_sync(session, prefix):
    from idflow import usecases
    from idflow.taskdefs.purge import PurgePlan, PurgeResult

    dry = usecases.purge(session, orphaned=True, dry_run=True)
    assert again(usecases.PurgeOutcome, dry)["would_delete"] == [prefix + "orphan"]
    again(PurgePlan, dry.plan)
    done = usecases.purge(session, names=[prefix + "orphan"], force=True)
    again(PurgeResult, done.result)
    again(usecases.PurgeOutcome, done)
    again(usecases.SyncOutcome, usecases.sync(session, prune=True, dry_run=True))


def test_workflow_plan(session, prefix):
    from idflow.usecases import workflows
    from idflow.workflowdefs.sync import WorkflowPlan

    plan = workflows.plan(session, include_remote_only=True)
    doc = again(WorkflowPlan, plan)
    mine = [i for i in doc["items"] if i["name"] == prefix + "wf"]
    assert mine and mine[0]["unknown_tasks"] == [{"task": prefix + "nowhere", "where": "tasks[1]"}]
