"""Event handlers: local files, normal form, plans, ownership (pure), and the client on the real server's /api/event."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from idflow.base.errors import NotFound, RefusedError, ServerError
from idflow.events import differences, load_event_handler_files, normalise, plan_purge, plan_upload
from idflow.events.ledger import record_handlers
from tests.eventhelp import handler, handler_prefix  # noqa: F401  (fixture)


def write(root: Path, folder: str, content) -> Path:
    path = root / folder / "event_handlers.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content if isinstance(content, str) else json.dumps(content, indent=2), encoding="utf-8")
    return path


# ---- local files ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("content,line,fragment", [
    ('[\n  {"name": "a",\n   "event": }\n]', 3, "invalid JSON"),
    ('{"name": "a", "event": "x", "actions": []}', 1, "expected a JSON list of event handlers"),
    ('[\n  {"event": "x"}\n]', 2, "has no name"),
    ('[\n  {"name": "a", "event": "x", "active": true}\n]', 2, "has no actions"),
    ('[\n {"name": "a", "event": "x", "active": true,\n  "actions": [{"action": "nope"}]}\n]', 2, "is not one of"),
    ('[\n {"name": "a", "active": true, "actions": [{"action": "fail_task"}]}\n]', 2, "has no event"),
    ('[\n {"name": "a/b", "event": "x", "active": true, "actions": [{"action": "fail_task"}]}\n]', 2, "slash"),
    ('[\n {"name": "a", "event": "x", "active": "yes", "actions": [{"action": "fail_task"}]}\n]', 2,
     "active must be true or false"),
    ('  \n', 0, "empty file"),
])
def test_a_malformed_file_is_an_error_with_path_and_line(tmp_path, content, line, fragment):
    path = write(tmp_path, "wf", content)
    write(tmp_path, "other", [handler("ok", "conductor:wf:done")])
    loaded = load_event_handler_files(tmp_path)
    [issue] = loaded.issues
    assert (issue.path, issue.line) == (str(path), line) and fragment in issue.message
    assert [h.name for h in loaded.handlers] == ["ok"]        # the other file is still read


def test_invalid_utf8_is_an_error_not_a_crash(tmp_path):
    path = tmp_path / "wf" / "event_handlers.json"
    path.parent.mkdir()
    path.write_bytes(b'[\n{"name": "\xff"}]')
    [issue] = load_event_handler_files(tmp_path).issues
    assert (issue.path, issue.line, issue.message) == (str(path), 2, "not UTF-8 text")


def test_a_name_defined_twice_is_an_error_naming_both_files(tmp_path):
    first = write(tmp_path, "a", [handler("same", "conductor:a:x")])
    second = write(tmp_path, "b/deeper", [handler("other", "x"), handler("same", "conductor:b:x")])
    loaded = load_event_handler_files(tmp_path)
    assert [h.name for h in loaded.handlers] == ["other"]
    assert len(loaded.issues) == 2
    for issue in loaded.issues:
        assert f"{first}:2" in issue.message and f"{second}:" in issue.message
    assert "same" in loaded.mentioned                           # never an orphan while a file names it


def test_only_files_named_event_handlers_json_are_read_and_a_missing_dir_is_empty(tmp_path):
    write(tmp_path, "wf", [handler("h", "x")])
    (tmp_path / "wf" / "wf.json").write_text(json.dumps({"name": "wf", "tasks": []}))
    (tmp_path / "wf" / "handlers.json").write_text("[not json")
    assert [h.name for h in load_event_handler_files(tmp_path).handlers] == ["h"]
    empty = load_event_handler_files(tmp_path / "missing")
    assert (empty.handlers, empty.issues) == ([], [])


@pytest.mark.parametrize("item,fragment", [
    ({**handler("h", "x"), "description": "d"}, "does not keep 'description'"),
    ({k: v for k, v in handler("h", "x").items() if k != "active"}, "stores it inactive"),
])
def test_warnings_do_not_block(tmp_path, item, fragment):
    write(tmp_path, "wf", [item])
    loaded = load_event_handler_files(tmp_path)
    assert [h.name for h in loaded.handlers] == ["h"] and loaded.issues == []
    assert [w for w in loaded.warnings if fragment in w.message]


# ---- normal form and plans ---------------------------------------------------------------------------------

def test_server_defaults_are_no_difference():
    local = {"name": "h", "event": "x", "actions": [{"action": "start_workflow", "start_workflow": {"name": "w"}},
                                                     {"action": "fail_task", "fail_task": {"workflowId": "w"}}]}
    held = {"name": "h", "event": "x", "active": False, "actions": [
        {"action": "start_workflow", "start_workflow": {"name": "w", "input": {}}, "expandInlineJSON": False},
        {"action": "fail_task", "fail_task": {"workflowId": "w", "output": {}}, "expandInlineJSON": False}]}
    assert differences(held, local) == []


@pytest.mark.parametrize("path,value", [("active", False), ("event", "conductor:y:z"), ("condition", "$.a == 2"),
                                        ("evaluatorType", "javascript")])
def test_each_field_alone_is_a_difference(path, value):
    local = handler("h", "conductor:w:done", condition="$.a == 1")
    changed = {**local, path: value}
    assert [(c.path, c.new) for c in differences(local, changed)] == [(path, value)]


def test_a_change_inside_an_action_names_its_path():
    local = handler("h", "x")
    changed = json.loads(json.dumps(local))
    changed["actions"][0]["start_workflow"]["input"]["k"] = 1
    assert [c.path for c in differences(local, changed)] == ["actions[0].start_workflow.input.k"]


def test_plan_upload_sorts_create_update_same_and_remote_only(tmp_path):
    write(tmp_path, "wf", [handler("new", "x"), handler("changed", "x"), handler("same", "x")])
    remote = [normalise(handler("changed", "y")), normalise(handler("same", "x")), normalise(handler("theirs", "x"))]
    plan = plan_upload(load_event_handler_files(tmp_path), remote)
    assert (plan.names("create"), plan.names("update"), plan.names("same"), plan.names("remote_only")) == (
        ["new"], ["changed"], ["same"], ["theirs"])
    assert plan.drift
    only = plan_upload(load_event_handler_files(tmp_path), remote, names=["same"])
    assert [i.name for i in only.items] == ["same"] and not only.drift


# ---- ownership: --orphaned deletes only what this project's ledger names, unchanged --------------------------

def _orphan_plan(tmp_path, remote, ledger, **kw):
    write(tmp_path, "ours", [handler("kept_locally", "conductor:ours:done")])
    return plan_purge(load_event_handler_files(tmp_path), remote, ledger, None, orphaned=True, **kw)


ACTIONS_ON_OUR_WORKFLOW = [
    {"name": "completes", "event": "conductor:ours:done",
     "actions": [{"action": "complete_task", "complete_task": {"workflowId": "${workflowId}", "taskRefName": "t"}}]},
    {"name": "fails", "event": "conductor:ours:done",
     "actions": [{"action": "fail_task", "fail_task": {"workflowId": "${workflowId}", "taskRefName": "t"}}]},
    handler("starts", "conductor:ours:done", start="ours"),
    handler("kafka", "kafka:topic", start="ours"),
    handler("run_time", "conductor:ours:done", start="${workflow.input.next}"),
]


@pytest.mark.parametrize("remote_handler", ACTIONS_ON_OUR_WORKFLOW, ids=lambda h: h["name"])
def test_a_handler_this_project_never_recorded_is_kept_whatever_it_targets(tmp_path, remote_handler):
    from idflow.engine.ledger import Ledger

    for ledger in (Ledger("us"), Ledger("us", {"other": "0" * 16}), None):
        plan = _orphan_plan(tmp_path, [normalise(remote_handler)], ledger)
        assert plan.deletions == [] and [s.name for s in plan.skipped] == [remote_handler["name"]]


@pytest.mark.parametrize("remote_handler", ACTIONS_ON_OUR_WORKFLOW, ids=lambda h: h["name"])
def test_a_recorded_handler_in_no_file_is_an_orphan_unless_edited_since(tmp_path, remote_handler):
    from idflow.engine.ledger import Ledger

    written = normalise(remote_handler)
    ledger = record_handlers(Ledger("us"), {written["name"]: written}, None)
    assert [d.name for d in _orphan_plan(tmp_path, [written], ledger).deletions] == [written["name"]]
    edited = {**written, "active": not written["active"]}
    plan = _orphan_plan(tmp_path, [edited], ledger)
    assert plan.deletions == [] and "edited on the server" in plan.skipped[0].reason


def test_a_recorded_handler_still_in_a_file_is_never_an_orphan(tmp_path):
    from idflow.engine.ledger import Ledger

    kept = normalise(handler("kept_locally", "conductor:ours:done"))
    plan = _orphan_plan(tmp_path, [kept], record_handlers(Ledger("us"), {"kept_locally": kept}, None))
    assert plan.deletions == [] and plan.skipped == []


def test_orphaned_refuses_when_a_local_file_cannot_be_read(tmp_path):
    from idflow.engine.ledger import Ledger

    write(tmp_path, "broken", "[oops")
    with pytest.raises(RefusedError):
        _orphan_plan(tmp_path, [handler("gone", "conductor:ours:done")], Ledger("us"))


def test_a_ledger_reads_back_only_its_own_project():
    from idflow.engine.ledger import Ledger, read_ledger

    ours = Ledger("us", {"h": "abc"})
    assert read_ledger("us", ours.taskdef()).entries == {"h": "abc"}
    assert read_ledger("them", ours.taskdef()).entries == {}
    for junk in (None, {}, {"description": "x"}, {"description": "x\n\n[idflow-ledger] {"},
                 {"description": "x\n\n[idflow-ledger] [1]"}):
        assert read_ledger("us", junk).entries == {}


# ---- the client against the real server -------------------------------------------------------------------

def test_create_twice_update_missing_delete_missing(client, handler_prefix):
    name = handler_prefix + "h"
    client.create_event_handler(handler(name, "conductor:w:x"))
    with pytest.raises(ServerError, match="already exists"):
        client.create_event_handler(handler(name, "conductor:w:x"))
    with pytest.raises(NotFound):
        client.update_event_handler(handler(handler_prefix + "missing", "x"))
    with pytest.raises(NotFound):
        client.delete_event_handler(handler_prefix + "missing")
    client.delete_event_handler(name)
    assert name not in {h["name"] for h in client.list_event_handlers()}


@pytest.mark.parametrize("actions", [
    [{"action": "start_workflow", "start_workflow": {"name": "w", "version": None}}],
    [{"action": "complete_task", "complete_task": {"workflowId": "${w}", "taskRefName": "r"}},
     {"action": "fail_task", "fail_task": {"workflowId": "w", "taskId": "t"}}],
    [{"action": "terminate_workflow", "terminate_workflow": {"workflowId": "w"}, "expandInlineJSON": True},
     {"action": "update_workflow_variables", "update_workflow_variables": {"workflowId": "w", "variables": {"v": None}}}],
])
@pytest.mark.parametrize("active", [True, None])
def test_what_the_server_fills_in_is_no_difference(client, handler_prefix, actions, active):
    body = {"name": handler_prefix + "d", "event": "x", "condition": None, "actions": actions}
    if active is not None:
        body["active"] = active
    client.create_event_handler(body)
    [held] = [h for h in client.list_event_handlers() if h["name"] == body["name"]]
    assert held != body                                      # the server did fill something in
    assert differences(held, body) == []


def test_update_replaces_the_whole_handler(client, handler_prefix):
    name = handler_prefix + "u"
    client.create_event_handler(handler(name, "x", condition="$.a == 1"))
    client.update_event_handler({k: v for k, v in handler(name, "y").items() if k != "condition"})
    [held] = [h for h in client.list_event_handlers() if h["name"] == name]
    assert held["event"] == "y" and "condition" not in held


@pytest.mark.parametrize("suffix", ["#old", "?x=1", " with space", "%2F", "..", "a#b?c d"])
def test_a_special_name_is_addressed_exactly(client, handler_prefix, suffix):
    stem, special = handler_prefix + "x", handler_prefix + "x" + suffix
    for name in (stem, special):
        client.create_event_handler(handler(name, "x"))
    client.delete_event_handler(special)
    names = {h["name"] for h in client.list_event_handlers()}
    assert stem in names and special not in names
