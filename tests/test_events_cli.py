"""`idflow events list|diff|upload|purge` end to end on the real server."""
from __future__ import annotations

import json

import pytest

from tests.clihelp import run_cli
from tests.eventhelp import handler, handler_prefix, written  # noqa: F401  (fixture)


def write_handlers(project, workflow: str, handlers: list) -> None:
    folder = project.workflows_dir / workflow
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{workflow}.json").write_text(json.dumps({"name": workflow, "version": 1, "tasks": []}))
    (folder / "event_handlers.json").write_text(json.dumps(handlers, indent=2))


def on_server(client, name: str):
    return next((h for h in client.list_event_handlers() if h["name"] == name), None)


def backup_of(path: str) -> dict:
    return json.loads(open(path, encoding="utf-8").read())


@pytest.fixture
def uploaded(project, handler_prefix, client, capsys):
    """Two handlers of workflow <prefix>wf, uploaded: (workflow, [names])."""
    wf = handler_prefix + "wf"
    names = [handler_prefix + "on_done", handler_prefix + "on_fail"]
    write_handlers(project, wf, [handler(names[0], f"conductor:{wf}:done", start=wf),
                                 handler(names[1], f"conductor:{wf}:fail", start=wf, condition="$.ok == false")])
    result = run_cli(capsys, "events", "upload", "--all", "--json")
    assert result.code == 0, result.err
    assert sorted(written(result.json)) == sorted(names)
    return wf, names


def test_list_diff_upload_and_the_no_op_rerun(project, handler_prefix, client, capsys):
    wf = handler_prefix + "wf"
    name = handler_prefix + "h"
    write_handlers(project, wf, [handler(name, f"conductor:{wf}:done", start=wf)])
    local = run_cli(capsys, "events", "list", "--local", "--json")
    assert local.code == 0 and [h["name"] for h in local.json["handlers"]] == [name]
    assert local.json["handlers"][0]["source"].endswith(f"{wf}/event_handlers.json:2")
    diff = run_cli(capsys, "events", "diff", "--json")
    assert diff.code == 4 and diff.json["create"] == [name]
    assert run_cli(capsys, "events", "upload", "--all", "--dry-run", "--json").json["would_write"] == [name]
    assert on_server(client, name) is None
    first = run_cli(capsys, "events", "upload", "--all", "--json")
    assert first.code == 0 and written(first.json) == [name] and first.json["backup"] is None
    assert on_server(client, name)["event"] == f"conductor:{wf}:done"
    again = run_cli(capsys, "events", "upload", "--all", "--json")
    assert again.code == 0 and written(again.json) == [] and again.json["unchanged"] == [name]
    assert run_cli(capsys, "events", "diff").code == 0
    remote = run_cli(capsys, "events", "list", "--remote", "--json")
    assert name in [h["name"] for h in remote.json["handlers"]]
    listing = run_cli(capsys, "events", "list", "--json")
    assert listing.code == 0 and name in listing.json["same"]


@pytest.mark.parametrize("field,value,path", [
    ("active", False, "active"),
    ("condition", "$.ok == true", "condition"),
    ("event", "conductor:{wf}:other", "event"),
    ("input", {"from": "${id}", "extra": 1}, "actions[0].start_workflow.input.extra"),
])
def test_an_update_of_one_field_is_diffed_backed_up_and_written(project, uploaded, client, capsys, field, value,
                                                               path):
    wf, names = uploaded
    before = on_server(client, names[1])
    edited = handler(names[1], f"conductor:{wf}:fail", start=wf, condition="$.ok == false")
    if field == "input":
        edited["actions"][0]["start_workflow"]["input"] = value
    else:
        edited[field] = value.format(wf=wf) if isinstance(value, str) else value
    write_handlers(project, wf, [handler(names[0], f"conductor:{wf}:done", start=wf), edited])
    diff = run_cli(capsys, "events", "diff", "--json")
    assert diff.code == 4 and diff.json["update"] == [names[1]]
    [item] = [i for i in diff.json["handlers"] if i["action"] == "update"]
    assert [c["path"] for c in item["changes"]] == [path]
    result = run_cli(capsys, "events", "upload", names[1], "--json")
    assert result.code == 0 and written(result.json) == [names[1]]
    assert backup_of(result.json["backup"])["event_handlers"] == [before]
    assert run_cli(capsys, "events", "diff").code == 0


def test_purge_with_yes_backs_up_deletes_and_reads_back(project, uploaded, client, capsys):
    _, names = uploaded
    copy = on_server(client, names[0])
    result = run_cli(capsys, "events", "purge", names[0], "-y", "--json")
    assert result.code == 0 and result.json["deleted"] == [names[0]]
    assert result.json["failed"] == [] and result.json["unknown"] == []
    assert backup_of(result.json["backup"])["event_handlers"] == [copy]
    assert "/backups/event_handlers/" in result.json["backup"]
    assert on_server(client, names[0]) is None and on_server(client, names[1]) is not None
    assert "still in a local event_handlers.json" in result.err


def test_purge_without_a_terminal_and_without_yes_refuses(project, uploaded, client, capsys):
    _, names = uploaded
    result = run_cli(capsys, "events", "purge", names[0], "--json")
    assert result.code == 3 and result.json["error"]["type"] == "RefusedError"
    assert f"delete {names[0]}" in result.err                 # the plan was shown before refusing
    assert on_server(client, names[0]) is not None


def test_a_dry_run_deletes_nothing(project, uploaded, client, capsys):
    _, names = uploaded
    result = run_cli(capsys, "events", "purge", *names, "--dry-run", "--json")
    assert result.code == 0 and result.json["dry_run"] and sorted(result.json["would_delete"]) == sorted(names)
    assert result.json["deleted"] == [] and result.json["backup"] is None
    assert all(on_server(client, n) is not None for n in names)


def test_purging_a_name_not_on_the_server_changes_nothing(project, uploaded, client, capsys):
    _, names = uploaded
    result = run_cli(capsys, "events", "purge", names[0], names[0] + "_typo", "-y", "--json")
    assert result.code == 1 and "_typo" in result.json["error"]["message"]
    assert on_server(client, names[0]) is not None


def _task_action(kind: str, name: str, event: str) -> dict:
    return {"name": name, "event": event, "active": True,
            "actions": [{"action": kind, kind: {"workflowId": "${workflowId}", "taskRefName": "wait"}}]}


def test_purge_orphaned_deletes_only_what_this_project_uploaded(project, uploaded, handler_prefix, client, capsys):
    wf, names = uploaded
    # Other people's handlers on this project's own workflow: events it sends, tasks in it, starts of it.
    foreign = [handler(handler_prefix + "kafka", "kafka:topic", start=wf),
               handler(handler_prefix + "theirs", f"conductor:{handler_prefix}other:done", start=wf),
               handler(handler_prefix + "starts_ours", f"conductor:{wf}:x", start=wf),
               _task_action("complete_task", handler_prefix + "completes_ours", f"conductor:{wf}:done"),
               _task_action("fail_task", handler_prefix + "fails_ours", f"conductor:{wf}:fail")]
    for body in foreign:
        client.create_event_handler(body)
    write_handlers(project, wf, [handler(names[0], f"conductor:{wf}:done", start=wf)])   # on_fail dropped
    refused = run_cli(capsys, "events", "purge", "--orphaned", "--json")
    assert refused.code == 3 and on_server(client, names[1]) is not None
    result = run_cli(capsys, "events", "purge", "--orphaned", "-y", "--json")
    assert result.code == 0 and result.json["deleted"] == [names[1]]
    kept = {s["name"]: s["reason"] for s in result.json["skipped"]}
    assert all("not uploaded by this project" in kept[b["name"]] for b in foreign)
    assert all(on_server(client, b["name"]) is not None for b in foreign)
    assert on_server(client, names[0]) is not None


def test_a_handler_edited_on_the_server_since_upload_is_kept(project, uploaded, client, capsys):
    wf, names = uploaded
    edited = on_server(client, names[1])
    edited["condition"] = "$.edited == true"
    client.update_event_handler(edited)
    write_handlers(project, wf, [handler(names[0], f"conductor:{wf}:done", start=wf)])   # on_fail dropped
    result = run_cli(capsys, "events", "purge", "--orphaned", "-y", "--json")
    assert result.code == 0 and result.json["deleted"] == []
    assert "edited on the server" in {s["name"]: s["reason"] for s in result.json["skipped"]}[names[1]]


def test_another_idflow_projects_handlers_are_never_this_projects_orphans(project, uploaded, handler_prefix, client,
                                                                         capsys, tmp_path, monkeypatch):
    wf, names = uploaded
    other = tmp_path / "other"
    (other / "config").mkdir(parents=True)
    (other / "idflow" / "workflows" / wf).mkdir(parents=True)
    (other / "config" / "idflow.yml").write_text(project.config_path.read_text().replace("project: ", "project: o-"))
    theirs = [handler(handler_prefix + "o_starts", f"conductor:{wf}:done", start=wf),
              _task_action("complete_task", handler_prefix + "o_completes", f"conductor:{wf}:done")]
    (other / "idflow" / "workflows" / wf / "event_handlers.json").write_text(json.dumps(theirs))
    monkeypatch.chdir(other)
    assert run_cli(capsys, "events", "upload", "--all", "--json").code == 0
    monkeypatch.chdir(project.root)
    result = run_cli(capsys, "events", "purge", "--orphaned", "-y", "--json")
    assert result.code == 0 and result.json["deleted"] == []
    assert all(on_server(client, h["name"]) is not None for h in theirs)


@pytest.mark.parametrize("suffix", ["#old", "?x=1", " and space"])
def test_a_special_name_is_uploaded_diffed_and_purged_exactly(project, handler_prefix, client, capsys, suffix):
    wf, stem = handler_prefix + "wf", handler_prefix + "h"
    special = stem + suffix
    write_handlers(project, wf, [handler(stem, "x", start=wf), handler(special, "y", start=wf)])
    assert sorted(written(run_cli(capsys, "events", "upload", "--all", "--json").json)) == sorted([stem, special])
    assert run_cli(capsys, "events", "diff", special).code == 0
    result = run_cli(capsys, "events", "purge", special, "-y", "--json")
    assert result.json["deleted"] == [special]
    assert on_server(client, special) is None and on_server(client, stem) is not None


def test_malformed_files_are_errors_and_upload_all_writes_nothing(project, handler_prefix, client, capsys):
    wf = handler_prefix + "wf"
    good = handler_prefix + "good"
    write_handlers(project, wf, [handler(good, "x", start=wf)])
    broken = project.workflows_dir / "broken" / "event_handlers.json"
    broken.parent.mkdir()
    broken.write_text('[\n  {"name": "b",\n   "event": }\n]')
    listed = run_cli(capsys, "events", "list", "--local", "--json")
    assert listed.code == 1 and [h["name"] for h in listed.json["handlers"]] == [good]
    [error] = listed.json["errors"]
    assert error["path"].endswith("broken/event_handlers.json") and error["line"] == 3
    diff = run_cli(capsys, "events", "diff", "--json")
    assert diff.code == 1 and diff.json["create"] == [good] and diff.json["errors"][0]["line"] == 3
    result = run_cli(capsys, "events", "upload", "--all", "--json")
    assert result.code == 1 and result.json["error"]["issues"][0]["line"] == 3
    assert on_server(client, good) is None
    named = run_cli(capsys, "events", "upload", good, "--json")       # naming a valid one still works
    assert named.code == 0 and written(named.json) == [good]


def test_a_duplicate_name_across_two_files_is_an_error_naming_both(project, handler_prefix, client, capsys):
    name = handler_prefix + "twice"
    write_handlers(project, handler_prefix + "a", [handler(name, "x")])
    write_handlers(project, handler_prefix + "b", [handler(name, "y")])
    listed = run_cli(capsys, "events", "list", "--local", "--json")
    assert listed.code == 1 and listed.json["handlers"] == []
    for error in listed.json["errors"]:
        assert f"{handler_prefix}a/event_handlers.json:2" in error["message"]
        assert f"{handler_prefix}b/event_handlers.json:2" in error["message"]
    result = run_cli(capsys, "events", "upload", name, "--json")
    assert result.code == 1 and on_server(client, name) is None


def test_an_id_flow_layout_lists_everything_without_false_errors(project, handler_prefix, client, capsys):
    """idflow/workflows/<name>/<name>.json plus event_handlers.json, as ID Flow lays them out."""
    flows = [handler_prefix + "ingest", handler_prefix + "report"]
    expected = []
    for wf, nested in zip(flows, ("", "pipelines/")):
        folder = project.workflows_dir / nested / wf
        folder.mkdir(parents=True)
        (folder / f"{wf}.json").write_text(json.dumps({"name": wf, "version": 1, "schemaVersion": 2, "tasks": [
            {"name": "event", "taskReferenceName": "notify", "type": "EVENT", "sink": "conductor"}]}, indent=2))
        handlers = [{"name": f"{wf}_notify", "event": f"conductor:{wf}:notify", "condition": "true", "active": True,
                     "evaluatorType": "javascript",
                     "actions": [{"action": "start_workflow", "start_workflow": {"name": flows[1], "input": {}}}]}]
        (folder / "event_handlers.json").write_text(json.dumps(handlers, indent=4))
        expected.append(f"{wf}_notify")
    workflows = run_cli(capsys, "workflows", "list", "--local", "--json")
    assert workflows.code == 0 and workflows.json["errors"] == []
    assert sorted(w["name"] for w in workflows.json["workflows"]) == sorted(flows)
    events = run_cli(capsys, "events", "list", "--local", "--json")
    assert events.code == 0 and (events.json["errors"], events.json["warnings"]) == ([], [])
    assert sorted(h["name"] for h in events.json["handlers"]) == sorted(expected)
    assert run_cli(capsys, "events", "upload", "--all", "--json").code == 0
    assert run_cli(capsys, "events", "diff").code == 0


def test_a_key_the_server_drops_is_a_failed_write_not_a_success(project, handler_prefix, client, capsys):
    wf, name = handler_prefix + "wf", handler_prefix + "h"
    body = handler(name, "x", start=wf)
    body["actions"][0]["start_workflow"]["owner"] = "idflow"       # not an EventHandler field: dropped
    write_handlers(project, wf, [body])
    result = run_cli(capsys, "events", "upload", "--all", "--json")
    assert result.code == 1 and written(result.json) == []
    [failure] = result.json["failed"]
    assert failure["name"] == name and "actions[0].start_workflow.owner" in failure["errors"][0]


@pytest.mark.parametrize("status,account", [(200, "failed"), (500, "failed")])
def test_the_purge_account_is_what_the_server_holds_afterwards(project, uploaded, client, capsys, fault_proxy,
                                                               status, account):
    _, names = uploaded
    proxy = fault_proxy()
    proxy.add_rule(method="DELETE", path="/api/event/", action="status", status=status,
                   body={"message": "injected"} if status == 500 else None, nth=2)
    result = run_cli(capsys, "--server-url", proxy.url, "events", "purge", *names, "-y", "--json")
    assert result.code == 1
    assert result.json["deleted"] == [names[0]]
    [failure] = result.json[account]
    assert failure["name"] == names[1]
    assert ("still holds it" if status == 200 else "injected") in failure["errors"][0]
    assert on_server(client, names[1]) is not None and on_server(client, names[0]) is None
