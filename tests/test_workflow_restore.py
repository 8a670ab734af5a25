"""`idflow workflows backups` and `workflows restore` against the real server.

The backups `workflows upload` writes can be listed and put back: the plan first, a question
(refused without a terminal unless -y), --dry-run, a backup of what the restore overwrites,
and an account per workflow version read back from the server.
"""
from __future__ import annotations

import json
import signal

import pytest

from idflow.engine.backups import write_backup
from tests.clihelp import run_cli, task_source
from tests.test_interrupt import configure

pytestmark = pytest.mark.server


def workflow(name: str, description: str, version: int = 1) -> dict:
    return {"name": name, "version": version, "description": description, "schemaVersion": 2,
            "tasks": [{"name": name + "_task", "taskReferenceName": "s", "type": "SIMPLE"}]}


def held(client, prefix) -> dict:
    """(name, version) -> description of every workflow version the server holds under `prefix`."""
    return {(w["name"], w["version"]): w.get("description") for w in client.list_workflows()
            if w["name"].startswith(prefix)}


def backup_file(project, client, definitions: list[dict]) -> str:
    """A workflow backup of the server copies of `definitions` (uploaded first), as idflow writes one."""
    client.upsert_workflows(definitions)
    copies = [client.get_workflow(d["name"], d["version"]) for d in definitions]
    return str(write_backup(project.root / ".idflow", "workflows-upload", copies, kind="workflows"))


def brief(*keys) -> list[dict]:
    return [{"name": n, "version": v} for n, v in keys]


def test_an_upload_backup_is_listed_and_restored_with_a_backup_of_what_it_overwrites(project, prefix, client, capsys):
    a, b = prefix + "a", prefix + "b"
    for name in (a, b):
        project.write_task(name + "_task", task_source(name + "_task"))
        (project.workflows_dir / f"{name}.json").write_text(json.dumps(workflow(name, "first")))
    assert run_cli(capsys, "workflows", "upload", "--all").code == 0
    for name in (a, b):
        (project.workflows_dir / f"{name}.json").write_text(json.dumps(workflow(name, "second")))
    upload = run_cli(capsys, "workflows", "upload", "--all", "--json")
    assert upload.code == 0, upload.err
    listed = run_cli(capsys, "workflows", "backups", "--json")
    assert listed.code == 0 and [(e["path"], e["count"]) for e in listed.json["backups"]] == [(upload.json["backup"], 2)]
    assert run_cli(capsys, "tasks", "backups", "--json").json["backups"] == []     # never mixed with TaskDefs
    client.delete_workflow(b, 1)

    result = run_cli(capsys, "workflows", "restore", upload.json["backup"], "-y", "--json")
    assert result.code == 0, result.err
    doc = result.json
    assert doc["overwrite"] == brief((a, 1)) and doc["create"] == brief((b, 1))
    assert doc["restored"] == brief((a, 1), (b, 1)) and doc["failed"] == [] and doc["not_attempted"] == []
    assert held(client, prefix) == {(a, 1): "first", (b, 1): "first"}
    replaced = json.loads(open(doc["backup"]).read())
    assert [(w["name"], w["description"]) for w in replaced["workflows"]] == [(a, "second")]
    assert len(run_cli(capsys, "workflows", "backups", "--json").json["backups"]) == 2


def test_without_a_terminal_and_without_yes_it_shows_the_plan_and_refuses(project, prefix, client, capsys):
    name = prefix + "w"
    path = backup_file(project, client, [workflow(name, "old")])
    client.upsert_workflows([workflow(name, "new")])
    result = run_cli(capsys, "workflows", "restore", path, "--json")
    assert result.code == 3 and result.json["error"]["type"] == "RefusedError"
    assert f"overwrite {name} v1" in result.err                    # the plan came before the refusal
    assert held(client, prefix) == {(name, 1): "new"}
    assert [e["path"] for e in run_cli(capsys, "workflows", "backups", "--json").json["backups"]] == [path]


def test_a_dry_run_shows_the_plan_and_writes_nothing(project, prefix, client, fault_proxy, capsys):
    name = prefix + "w"
    path = backup_file(project, client, [workflow(name, "old", 1), workflow(name, "old", 2)])
    client.upsert_workflows([workflow(name, "new", 2)])
    proxy = fault_proxy()
    configure(project, proxy)
    result = run_cli(capsys, "workflows", "restore", path, "--dry-run", "--json")
    assert result.code == 0, result.err
    assert result.json["dry_run"] is True and result.json["restored"] == []
    assert result.json["overwrite"] == brief((name, 2)) and result.json["unchanged"] == brief((name, 1))
    assert "overwrite" in result.err and proxy.count("PUT") == 0
    assert held(client, prefix) == {(name, 1): "old", (name, 2): "new"}


def test_named_workflows_only_and_an_unknown_name_is_an_error(project, prefix, client, capsys):
    a, b = prefix + "a", prefix + "b"
    path = backup_file(project, client, [workflow(a, "old"), workflow(b, "old")])
    client.upsert_workflows([workflow(a, "new"), workflow(b, "new")])
    result = run_cli(capsys, "workflows", "restore", path, b, "-y", "--json")
    assert result.code == 0 and result.json["restored"] == brief((b, 1))
    assert held(client, prefix) == {(a, 1): "new", (b, 1): "old"}
    missing = run_cli(capsys, "workflows", "restore", path, prefix + "nope", "-y", "--json")
    assert missing.code == 1 and "not in backup" in missing.json["error"]["message"]


def test_what_the_server_already_holds_is_not_written(project, prefix, client, fault_proxy, capsys):
    name = prefix + "w"
    path = backup_file(project, client, [workflow(name, "same")])
    proxy = fault_proxy()
    configure(project, proxy)
    result = run_cli(capsys, "workflows", "restore", path, "-y", "--json")
    assert result.code == 0 and result.json["unchanged"] == brief((name, 1)) and result.json["restore"] == []
    assert proxy.count("PUT") == 0 and result.json["backup"] is None


def test_a_failed_batch_names_what_was_restored_what_failed_and_what_was_not_attempted(project, prefix, client,
                                                                                     fault_proxy, capsys):
    names = [f"{prefix}w{i}" for i in range(4)]
    path = backup_file(project, client, [workflow(n, "old") for n in names])
    client.upsert_workflows([workflow(n, "new") for n in names])
    proxy = fault_proxy()
    proxy.add_rule(method="PUT", path="/api/metadata/workflow", action="status", status=500, nth=2,
                   body={"message": "boom"})
    configure(project, proxy, batch_size=1)
    result = run_cli(capsys, "workflows", "restore", path, "-y", "--json")
    assert result.code == 1, result.err
    doc = result.json
    assert doc["restored"] == brief((names[0], 1))
    assert [(f["name"], f["version"]) for f in doc["failed"]] == [(names[1], 1)] and "boom" in doc["failed"][0]["errors"][0]
    assert doc["not_attempted"] == brief((names[2], 1), (names[3], 1))
    assert held(client, prefix) == {(names[0], 1): "old", **{(n, 1): "new" for n in names[1:]}}
    assert "internal error" not in result.err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_restore_stops_between_batches_with_the_account(project, prefix, client, fault_proxy, sig):
    from tests.test_interrupt_writes import interrupt

    names = [f"{prefix}w{i:02d}" for i in range(10)]
    path = backup_file(project, client, [workflow(n, "old") for n in names])
    client.upsert_workflows([workflow(n, "new") for n in names])
    proxy = fault_proxy()
    proxy.add_rule(method="PUT", path="/api/metadata/workflow", action="delay", delay=0.3)
    configure(project, proxy, batch_size=2)
    doc = interrupt(project, proxy, "PUT", ["workflows", "restore", path, "-y"], sig)
    restored = [e["name"] for e in doc["restored"]]
    assert doc["interrupted"] is True and doc["failed"] == [] and doc["not_attempted"]
    assert sorted(restored + [e["name"] for e in doc["not_attempted"]]) == names
    assert held(client, prefix) == {(n, 1): "old" if n in restored else "new" for n in names}
    assert proxy.count("PUT") == len(restored) // 2


@pytest.mark.parametrize("content,expected", [
    ('{"format": 1, "taskdefs": []}', "it holds taskdefs"),
    ('{"format": 1, "workflows": [{"version": 1}]}', "not a workflow definition"),
    ("not json", "invalid JSON"),
], ids=["taskdefs-backup", "nameless-entry", "not-json"])
def test_a_file_that_is_no_workflow_backup_is_a_clear_error(project, client, capsys, content, expected):
    path = project.root / "bad.json"
    path.write_text(content)
    result = run_cli(capsys, "workflows", "restore", str(path), "-y", "--json")
    assert result.code == 1 and expected in result.json["error"]["message"]
    assert result.json["error"]["type"] != "InternalError"
