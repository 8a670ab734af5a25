"""Purge against the real server: the usage check in every nesting, refusals, backups."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server


def simple(name, ref="r"):
    return {"name": name, "taskReferenceName": ref, "type": "SIMPLE"}


def nestings(task):
    """Workflow task lists where `task` appears only deep inside one construct."""
    return {
        "fork": [{"name": "fork", "taskReferenceName": "f", "type": "FORK_JOIN",
                  "forkTasks": [[simple("other_a", "x")], [simple("other_b", "y"), simple(task, "deep")]]},
                 {"name": "join", "taskReferenceName": "j", "type": "JOIN", "joinOn": ["x", "deep"]}],
        "switch_case": [{"name": "sw", "taskReferenceName": "s", "type": "SWITCH", "evaluatorType": "value-param",
                         "expression": "k", "inputParameters": {"k": "${workflow.input.k}"},
                         "decisionCases": {"a": [simple("other_a", "x")], "b": [simple(task, "deep")]}}],
        "default_case": [{"name": "sw", "taskReferenceName": "s", "type": "SWITCH", "evaluatorType": "value-param",
                          "expression": "k", "inputParameters": {"k": "${workflow.input.k}"},
                          "decisionCases": {"a": [simple("other_a", "x")]}, "defaultCase": [simple(task, "deep")]}],
        "do_while": [{"name": "loop", "taskReferenceName": "l", "type": "DO_WHILE",
                      "loopCondition": "if ($.l['iteration'] < 2) { true; } else { false; }",
                      "loopOver": [simple(task, "deep")]}],
    }


def orphan(project, client, capsys, name):
    """Upload `name` from a task file, then delete the file: an orphan idflow uploaded."""
    project.write_task(name, task_source(name))
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    import shutil
    shutil.rmtree(project.tasks_dir / name)
    return client.get_taskdef(name)


@pytest.mark.parametrize("construct", ["fork", "switch_case", "default_case", "do_while"])
def test_task_used_deep_inside_a_workflow_is_kept_until_forced(project, prefix, client, capsys, construct):
    task = prefix + "deep"
    orphan(project, client, capsys, task)
    client.upsert_workflows([{"name": prefix + "wf", "version": 1, "schemaVersion": 2,
                              "tasks": nestings(task)[construct]}])
    kept = run_cli(capsys, "tasks", "purge", "--orphaned", "-y", "--json")
    assert kept.code == 0
    skipped = {s["name"]: s for s in kept.json["skipped"]}
    assert kept.json["deleted"] == [] and task in skipped
    assert any(u.startswith(f"{prefix}wf v1 tasks[0]") for u in skipped[task]["used_by"])
    assert client.get_taskdef(task)["name"] == task
    forced = run_cli(capsys, "tasks", "purge", task, "--force", "-y", "--json")
    assert forced.code == 0 and forced.json["deleted"] == [task] and forced.json["forced"] == [task]
    assert "FORCED" in forced.err
    assert task not in {d["name"] for d in client.list_taskdefs()}


def test_an_old_workflow_version_still_counts(project, prefix, client, capsys):
    task = prefix + "old"
    orphan(project, client, capsys, task)
    client.upsert_workflows([{"name": prefix + "wf", "version": 1, "schemaVersion": 2, "tasks": [simple(task)]},
                             {"name": prefix + "wf", "version": 2, "schemaVersion": 2, "tasks": [simple("x")]}])
    named = run_cli(capsys, "tasks", "purge", task, "-y", "--json")
    assert named.code == 3 and named.json["deleted"] == []
    assert named.json["skipped"][0]["used_by"] == [f"{prefix}wf v1 tasks[0]"]


def test_a_local_workflow_file_not_yet_uploaded_counts(project, prefix, client, capsys):
    task = prefix + "local"
    orphan(project, client, capsys, task)
    (project.workflows_dir / "flow.json").write_text(json.dumps(
        {"name": prefix + "wf", "version": 1, "tasks": [simple(task)]}))
    result = run_cli(capsys, "tasks", "purge", "--orphaned", "-y", "--json")
    skipped = {s["name"]: s for s in result.json["skipped"]}
    assert result.json["deleted"] == [] and "flow.json" in skipped[task]["used_by"][0]


def test_foreign_definitions_survive_orphaned_unless_included(project, prefix, client, capsys):
    mine, theirs = prefix + "mine", prefix + "theirs"
    orphan(project, client, capsys, mine)
    client.upsert_taskdefs([{"name": theirs, "timeoutSeconds": 60, "responseTimeoutSeconds": 30}])
    result = run_cli(capsys, "tasks", "purge", "--orphaned", "-y", "--json")
    assert result.json["deleted"] == [mine]
    assert theirs in {s["name"] for s in result.json["skipped"]}
    assert client.get_taskdef(theirs)["name"] == theirs
    # --dry-run: on a shared server a real --include-foreign would take everyone's foreign defs.
    included = run_cli(capsys, "tasks", "purge", "--orphaned", "--include-foreign", "--dry-run", "--json")
    assert theirs in included.json["would_delete"] and client.get_taskdef(theirs)["name"] == theirs


def test_a_discovery_error_blocks_orphaned(project, prefix, client, capsys):
    task = prefix + "gone"
    orphan(project, client, capsys, task)
    project.write_task(prefix + "broken", "from idflow import worker_task\n\ndef broken(:\n")
    result = run_cli(capsys, "tasks", "purge", "--orphaned", "-y")
    assert result.code == 3 and "not an orphan" in result.err
    assert client.get_taskdef(task)["name"] == task


def test_without_a_terminal_and_without_yes_it_refuses(project, prefix, client, capsys):
    task = prefix + "gone"
    orphan(project, client, capsys, task)
    result = run_cli(capsys, "tasks", "purge", "--orphaned")
    assert result.code == 3 and "-y" in result.err
    assert client.get_taskdef(task)["name"] == task


def test_backup_restores_the_exact_definitions(project, prefix, client, capsys):
    task = prefix + "gone"
    before = orphan(project, client, capsys, task)
    client.upsert_taskdefs([dict(before, inputKeys=["a"], ownerEmail="o@example.org")])
    before = client.get_taskdef(task)
    purged = run_cli(capsys, "tasks", "purge", "--orphaned", "-y", "--json")
    assert purged.json["deleted"] == [task]
    restored = run_cli(capsys, "tasks", "restore", purged.json["backup"], "-y", "--json")
    assert restored.code == 0 and restored.json["restored"] == [task]
    after = client.get_taskdef(task)
    strip = lambda d: {k: v for k, v in d.items() if k not in ("createTime", "updateTime", "createdBy", "updatedBy")}
    assert strip(after) == strip(before)


def test_a_failure_mid_purge_is_reported_exactly(project, prefix, client, capsys, fault_proxy):
    names = [f"{prefix}o{i}" for i in range(4)]
    for name in names:
        orphan(project, client, capsys, name)
    project.config_path.write_text(project.config_path.read_text() + "max_retries: 0\n")
    proxy = fault_proxy()
    proxy.add_rule(method="DELETE", path=f"/api/metadata/taskdefs/{names[1]}", action="status", status=500)
    proxy.add_rule(method="DELETE", path=f"/api/metadata/taskdefs/{names[3]}", action="drop")
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "purge", "--orphaned", "-y", "--json")
    assert result.code == 1
    assert sorted(result.json["deleted"]) == [names[0], names[2]]
    assert sorted(f["name"] for f in result.json["failed"]) == [names[1], names[3]]
    remaining = {d["name"] for d in client.list_taskdefs()}
    assert names[1] in remaining and names[3] in remaining and names[0] not in remaining
    rerun = run_cli(capsys, "tasks", "purge", "--orphaned", "-y", "--json")
    assert sorted(rerun.json["deleted"]) == [names[1], names[3]]


@pytest.mark.parametrize("orphans", [0, 1], ids=["nothing_to_delete", "one_orphan"])
def test_a_dry_run_says_it_is_one_whatever_the_plan_holds(project, prefix, capsys, orphans):
    names = [f"{prefix}o{i}" for i in range(orphans)]
    for name in names:
        project.write_task(name, task_source(name))
    if names:
        uploaded = run_cli(capsys, "-v", "tasks", "upload", "--all")
        assert uploaded.code == 0, uploaded.err
    for name in names:
        shutil.rmtree(project.tasks_dir / name)
    result = run_cli(capsys, "--json", "tasks", "purge", "--orphaned", "--dry-run")
    assert result.code == 0, result.err
    assert result.json["dry_run"] is True and result.json["deleted"] == []
    assert result.json["would_delete"] == names
