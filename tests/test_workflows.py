"""Workflow files vs the server: normalising, plan, upload, reference check."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from idflow.workflowdefs.sync import CREATE, UNCHANGED, UPDATE, differences, plan_workflows
from idflow.workflowdefs.files import LocalWorkflow
from tests.clihelp import run_cli, task_source

# What Conductor OSS 3.32 returns for {"name": "w", "tasks": [{"name": "t", "taskReferenceName": "t1"}]}.
SERVER_ECHO = {
    "createTime": 0, "updateTime": 1795665958302, "name": "w", "version": 1,
    "tasks": [{"name": "t", "taskReferenceName": "t1", "inputParameters": {}, "type": "SIMPLE", "decisionCases": {},
               "defaultCase": [], "forkTasks": [], "startDelay": 0, "joinOn": [], "optional": False,
               "defaultExclusiveJoinTask": [], "asyncComplete": False, "loopOver": [], "onStateChange": {},
               "permissive": False, "metadata": {}}],
    "inputParameters": [], "outputParameters": {}, "schemaVersion": 2, "restartable": True,
    "workflowStatusListenerEnabled": False, "timeoutPolicy": "ALERT_ONLY", "timeoutSeconds": 0, "variables": {},
    "inputTemplate": {}, "enforceSchema": True, "metadata": {}, "maskedFields": [],
}
LOCAL = {"name": "w", "tasks": [{"name": "t", "taskReferenceName": "t1"}]}


def test_server_defaults_are_not_differences():
    assert differences(SERVER_ECHO, LOCAL) == []
    assert differences(SERVER_ECHO, {**LOCAL, "version": 1, "schemaVersion": 2, "timeoutSeconds": 0}) == []


def test_a_field_the_file_drops_or_changes_is_a_difference():
    server = {**SERVER_ECHO, "description": "old"}
    assert [(c.path, c.old, c.new) for c in differences(server, LOCAL)] == [("description", "old", None)]
    changed = {**LOCAL, "tasks": [{"name": "t", "taskReferenceName": "t1", "inputParameters": {"x": 1}}]}
    assert [(c.path, c.old, c.new) for c in differences(SERVER_ECHO, changed)] == [
        ("tasks[0].inputParameters", None, {"x": 1})]


def test_inline_task_definition_compares_only_what_the_file_sets():
    inline = {"name": "t", "retryCount": 1}
    local = {**LOCAL, "tasks": [{**LOCAL["tasks"][0], "taskDefinition": inline}]}
    echoed = {**inline, "createTime": 0, "timeoutSeconds": 0, "retryLogic": "FIXED", "responseTimeoutSeconds": 3600}
    server = {**SERVER_ECHO, "tasks": [{**SERVER_ECHO["tasks"][0], "taskDefinition": echoed}]}
    assert differences(server, local) == []
    retried = {**local["tasks"][0], "taskDefinition": {**inline, "retryCount": 2}}
    changes = differences(server, {**local, "tasks": [retried]})
    assert [c.path for c in changes] == ["tasks[0].taskDefinition.retryCount"]


def test_plan_actions_and_reference_check():
    local = [LocalWorkflow("a.json", LOCAL), LocalWorkflow("b.yaml", {"name": "v", "version": 2, "tasks": [
        {"name": "known_here", "taskReferenceName": "x"}, {"name": "nowhere", "taskReferenceName": "y"},
        {"name": "h", "taskReferenceName": "z", "type": "HTTP"}]})]
    plan = plan_workflows(local, [SERVER_ECHO], local_tasks=["known_here"], remote_tasks=["t"])
    actions = {(i.name, i.version): i.action for i in plan.items}
    assert actions == {("w", 1): UNCHANGED, ("v", 2): CREATE}
    [refused] = plan.refused
    assert [(r.task, r.where) for r in refused.unknown_tasks] == [("nowhere", "tasks[1]")]
    assert refused.not_uploaded == ("known_here",)
    server_v2 = {**SERVER_ECHO, "description": "x"}
    assert plan_workflows(local[:1], [server_v2], local_tasks=[], remote_tasks=["t"]).items[0].action == UPDATE


# ---- against the server ---------------------------------------------------------------------
def _workflow(name: str, task: str, **extra) -> dict:
    return {"name": name, "description": "test workflow", "version": 1, "schemaVersion": 2,
            "tasks": [{"name": task, "taskReferenceName": "step", "type": "SIMPLE",
                       "inputParameters": {"a": "${workflow.input.a}"}}],
            "outputParameters": {"sum": "${step.output.sum}"}, **extra}


def _write_json(folder: Path, name: str, definition: dict) -> Path:
    path = folder / f"{name}.json"
    path.write_text(json.dumps(definition, indent=2), encoding="utf-8")
    return path


def _write_yaml(folder: Path, name: str, definition: dict) -> Path:
    import yaml

    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def uploaded_task(project, prefix, capsys) -> str:
    name = prefix + "add"
    project.write_task(name, task_source(name))
    result = run_cli(capsys, "tasks", "upload", "--all", "--json")
    assert result.code == 0, result.err
    return name


@pytest.mark.server
def test_upload_then_rerun_writes_nothing(project, prefix, client, uploaded_task, capsys):
    name = prefix + "wf"
    _write_json(project.workflows_dir, name, _workflow(name, uploaded_task))
    first = run_cli(capsys, "workflows", "upload", "--all", "--json")
    assert first.code == 0, first.err
    assert [w["name"] for w in first.json["created"]] == [name]
    stored = client.get_workflow(name, 1)
    assert stored["tasks"][0]["name"] == uploaded_task

    again = run_cli(capsys, "workflows", "upload", "--all", "--json")
    assert again.code == 0, again.err
    assert again.json["created"] == [] and again.json["updated"] == []
    assert [w["name"] for w in again.json["unchanged"]] == [name]
    assert client.get_workflow(name, 1)["updateTime"] == stored["updateTime"]  # nothing was written


@pytest.mark.server
def test_yaml_and_json_both_load_and_sync(project, prefix, client, uploaded_task, capsys):
    from_json, from_yaml = prefix + "json_wf", prefix + "yaml_wf"
    _write_json(project.workflows_dir, from_json, _workflow(from_json, uploaded_task))
    _write_yaml(project.workflows_dir, from_yaml, _workflow(from_yaml, uploaded_task, timeoutSeconds=60,
                                                           timeoutPolicy="TIME_OUT_WF"))
    local = run_cli(capsys, "workflows", "list", "--local", "--json")
    assert local.code == 0, local.err
    assert {(w["name"], w["path"].rsplit(".", 1)[1]) for w in local.json["workflows"]} == {
        (from_json, "json"), (from_yaml, "yaml")}
    assert all(w["tasks"] == [uploaded_task] for w in local.json["workflows"])

    sync = run_cli(capsys, "workflows", "list", "--json")
    assert {w["name"] for w in sync.json["local_only"]} == {from_json, from_yaml}
    assert run_cli(capsys, "workflows", "upload", from_yaml, "--json").code == 0
    sync = run_cli(capsys, "workflows", "list", "--sync", "--json")
    assert [w["name"] for w in sync.json["in_sync"]] == [from_yaml]
    assert [w["name"] for w in sync.json["local_only"]] == [from_json]
    assert client.get_workflow(from_yaml, 1)["timeoutPolicy"] == "TIME_OUT_WF"
    remote = run_cli(capsys, "workflows", "list", "--remote", "--json")
    assert {"name": from_yaml, "versions": [1], "latest": 1} in remote.json["remote"]


@pytest.mark.server
def test_change_is_planned_shown_and_written_with_a_backup(project, prefix, client, uploaded_task, capsys):
    name = prefix + "wf"
    path = _write_json(project.workflows_dir, name, _workflow(name, uploaded_task))
    assert run_cli(capsys, "workflows", "upload", "--all").code == 0
    _write_json(project.workflows_dir, name, _workflow(name, uploaded_task, description="changed"))

    dry = run_cli(capsys, "workflows", "upload", "--all", "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert [w["name"] for w in dry.json["would_update"]] == [name] and dry.json["updated"] == []
    assert dry.json["changes"][f"{name} v1"] == [{"path": "description", "old": "test workflow", "new": "changed"}]
    assert client.get_workflow(name, 1)["description"] == "test workflow"

    shown = run_cli(capsys, "workflows", "upload", "--all")
    assert shown.code == 0, shown.err
    assert "updated" in shown.out and name in shown.out and str(path.name) in shown.out
    assert client.get_workflow(name, 1)["description"] == "changed"
    backups = list((project.root / ".idflow" / "backups" / "workflows").glob("*.json"))
    assert len(backups) == 1
    assert json.loads(backups[0].read_text())["workflows"][0]["description"] == "test workflow"


@pytest.mark.server
def test_unknown_task_is_refused_and_nothing_written(project, prefix, client, uploaded_task, capsys):
    good, bad = prefix + "good", prefix + "bad"
    missing = prefix + "no_such_task"
    _write_json(project.workflows_dir, good, _workflow(good, uploaded_task))
    _write_yaml(project.workflows_dir, bad, _workflow(bad, missing))
    result = run_cli(capsys, "workflows", "upload", "--all", "--json")
    assert result.code == 3, result.err
    assert missing in result.err and "nothing was written" in result.err
    [refused] = result.json["refused"]
    assert refused["name"] == bad and refused["unknown_tasks"] == [{"task": missing, "where": "tasks[0]"}]
    names = {w["name"] for w in client.list_workflows()}
    assert good not in names and bad not in names

    dry = run_cli(capsys, "workflows", "upload", bad, "--dry-run")
    assert dry.code == 3 and missing in dry.err


@pytest.mark.server
def test_task_defined_only_locally_is_known_but_flagged(project, prefix, client, capsys):
    task, name = prefix + "local_only", prefix + "wf"
    project.write_task(task, task_source(task))
    _write_json(project.workflows_dir, name, _workflow(name, task))
    result = run_cli(capsys, "workflows", "upload", "--all", "--json")
    assert result.code == 0, result.err
    assert result.json["not_uploaded_tasks"] == {f"{name} v1": [task]}
    assert "idflow tasks upload" in result.err


@pytest.mark.server
def test_broken_file_blocks_all_but_not_a_named_upload(project, prefix, client, uploaded_task, capsys):
    name = prefix + "wf"
    _write_json(project.workflows_dir, name, _workflow(name, uploaded_task))
    (project.workflows_dir / "broken.yaml").write_text("name: [unclosed\n", encoding="utf-8")
    result = run_cli(capsys, "workflows", "upload", "--all")
    assert result.code == 1 and "broken.yaml" in result.err and "nothing was written" in result.err
    assert name not in {w["name"] for w in client.list_workflows()}
    named = run_cli(capsys, "workflows", "upload", name)
    assert named.code == 0, named.err
    assert "broken.yaml" in named.err  # still reported, as a warning
    assert run_cli(capsys, "workflows", "upload", prefix + "nope").code == 1
