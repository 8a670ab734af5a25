"""`events import` and `events pull` against the real server: server-only handlers of every action type
become event_handlers.json files that read back as the server's; a server edit comes back into the file
with only the changed values moving; a conflict is refused with the reason."""
from __future__ import annotations

import difflib
import json
from pathlib import Path

import pytest

from tests.clihelp import run_cli
from tests.eventhelp import handler, handler_prefix, ledgers, written  # noqa: F401  (fixtures)

CORPUS = Path(__file__).parent / "corpus" / "event_handlers" / "every_action.json"

pytestmark = pytest.mark.usefixtures("ledgers")


def corpus(prefix: str) -> list[dict]:
    text = CORPUS.read_text().replace('"WF"', json.dumps(prefix + "wf")).replace(":WF:", f":{prefix}wf:")
    handlers = json.loads(text)
    for h in handlers:
        h["name"] = prefix + h["name"]
    return handlers


def on_server(client, name):
    return next((h for h in client.list_event_handlers() if h["name"] == name), None)


def test_the_corpus_covers_every_action_type_the_server_accepts():
    from idflow.events.model import ACTION_TYPES

    assert sorted({a["action"] for h in json.loads(CORPUS.read_text()) for a in h["actions"]}) == sorted(ACTION_TYPES)


def test_import_writes_every_action_type_into_new_files_that_read_back_as_the_server(project, handler_prefix,
                                                                                      client, capsys):
    handlers = corpus(handler_prefix)
    for h in handlers:
        client.create_event_handler(h)
    names = [h["name"] for h in handlers]
    taken = project.workflows_dir / f"{handler_prefix}wf" / "event_handlers.json"
    taken.parent.mkdir(parents=True)
    taken.write_text("[]\n")  # an existing file is never overwritten: the import goes beside it

    looked = run_cli(capsys, "events", "import", *names, "--dry-run", "--json")
    assert looked.code == 0, looked.err
    planned = {n: f["path"] for f in looked.json["would_write"] for n in f["names"]}
    assert set(planned) == set(names) and not any(Path(p).exists() for p in planned.values())
    assert planned[handler_prefix + "start"].endswith(f"{handler_prefix}wf_imported/event_handlers.json")
    assert planned[handler_prefix + "complete"].endswith("idflow/workflows/event_handlers/event_handlers.json")
    assert taken.read_text() == "[]\n"

    done = run_cli(capsys, "events", "import", *names, "--json")
    assert done.code == 0, done.err
    assert {n: f["path"] for f in done.json["written"] for n in f["names"]} == planned
    assert taken.read_text() == "[]\n"
    diff = run_cli(capsys, "events", "diff", *names, "--json")
    assert diff.code == 0, diff.out
    assert sorted(diff.json["same"]) == sorted(names)
    again = run_cli(capsys, "events", "import", handler_prefix + "start", "--json")
    assert again.code == 3 and "already in a local event_handlers.json" in again.err


def test_all_unmanaged_dry_run_lists_the_server_only_handlers(project, handler_prefix, client, capsys):
    name = handler_prefix + "lone"
    client.create_event_handler(handler(name, "conductor:x:y"))
    looked = run_cli(capsys, "events", "import", "--all-unmanaged", "--dry-run", "--json")
    assert looked.code == 0, looked.err
    assert name in [n for f in looked.json["would_write"] for n in f["names"]]
    assert not list(project.workflows_dir.rglob("event_handlers.json"))


PULLED = '''[
  {
    "name": "NAME",
    "event": "conductor:wf:done",
    "active": true,
    "actions": [
      {
        "action": "start_workflow",
        "start_workflow": {"name": "wf", "input": {"from": "${id}"}}
      }
    ]
  }
]
'''


@pytest.fixture
def uploaded(project, handler_prefix, client, capsys):
    name = handler_prefix + "h"
    path = project.workflows_dir / "wf" / "event_handlers.json"
    path.parent.mkdir(parents=True)
    path.write_text(PULLED.replace("NAME", name))
    assert run_cli(capsys, "events", "upload", "--all", "--json").code == 0
    return name, path


def test_a_server_edit_is_pulled_and_only_the_changed_values_move(uploaded, client, capsys):
    name, path = uploaded
    before = path.read_text()
    edited = on_server(client, name)
    edited["active"] = False
    edited["actions"][0]["start_workflow"]["input"]["from"] = "${other}"
    edited["condition"] = "$.x > 1"
    client.update_event_handler(edited)

    looked = run_cli(capsys, "events", "pull", "--all", "--dry-run", "--json")
    assert looked.code == 0, looked.err
    assert [p["name"] for p in looked.json["pulled"]] == [name] and path.read_text() == before
    done = run_cli(capsys, "events", "pull", "--all", "--json")
    assert done.code == 0, done.err
    assert path.read_text() == before.replace('"active": true', '"active": false').replace(
        '"${id}"', '"${other}"').replace('      }\n    ]\n', '      }\n    ],\n    "condition": "$.x > 1"\n')
    assert run_cli(capsys, "events", "diff", name).code == 0
    assert run_cli(capsys, "events", "pull", "--all", "--json").json["pulled"] == []


def test_a_conflict_is_refused_with_the_reason_and_nothing_moves(uploaded, client, capsys):
    name, path = uploaded
    edited = on_server(client, name)
    edited["active"] = False
    client.update_event_handler(edited)
    path.write_text(path.read_text().replace('"conductor:wf:done"', '"conductor:wf:finished"'))
    before = path.read_text()
    refused = run_cli(capsys, "events", "pull", name, "--json")
    assert refused.code == 3
    assert "a conflict" in refused.err and name in refused.err
    assert path.read_text() == before


def test_a_handler_idflow_never_wrote_is_not_pulled_on_a_guess(project, handler_prefix, client, capsys):
    name = handler_prefix + "theirs"
    client.create_event_handler(handler(name, "conductor:wf:a"))
    path = project.workflows_dir / "wf" / "event_handlers.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps([handler(name, "conductor:wf:b")], indent=2))
    refused = run_cli(capsys, "events", "pull", "--all", "--json")
    assert refused.code == 3 and "cannot tell which side changed" in refused.err


EDIT = {  # one edit of a field the server keeps, per action type
    "start_workflow": lambda action, p: p.update(correlationId="pulled"),
    "complete_task": lambda action, p: p.update(output={**p.get("output", {}), "pulled": 1}),
    "fail_task": lambda action, p: p["output"].update(pulled=1),
    "update_workflow_variables": lambda action, p: p["variables"].update(pulled=1),
    "terminate_workflow": lambda action, p: p.update(terminationReason="pulled"),
    "start_agent": lambda action, p: action.update(expandInlineJSON=True),
}


def test_every_action_type_edited_on_the_server_is_pulled_back(project, handler_prefix, client, capsys):
    handlers = corpus(handler_prefix)
    for h in handlers:
        client.create_event_handler(h)
    names = [h["name"] for h in handlers]
    assert run_cli(capsys, "events", "import", *names, "--json").code == 0
    files = sorted(project.workflows_dir.rglob("event_handlers.json"))
    before = {f: f.read_text() for f in files}
    for h in client.list_event_handlers():
        if h["name"] in names:
            action = h["actions"][-1]
            EDIT[action["action"]](action, action.get(action["action"]))
            h["active"] = not h["active"]
            client.update_event_handler(h)
    done = run_cli(capsys, "events", "pull", "--all", "--json")
    assert done.code == 0, done.err
    assert sorted(p["name"] for p in done.json["pulled"]) == sorted(names)
    diff = run_cli(capsys, "events", "diff", *names, "--json")
    assert diff.code == 0 and sorted(diff.json["same"]) == sorted(names), diff.out
    removed, added = [], []
    for path, text in before.items():
        for line in difflib.unified_diff(text.splitlines(), path.read_text().splitlines(), n=0, lineterm=""):
            if line[:1] in "+-" and line[:3] not in ("+++", "---"):
                (added if line[0] == "+" else removed).append(line[1:])
    # one line per handler's active, one per edited value; a new key is one more line, its neighbour a comma more
    assert len(removed) == 14 and len(added) == 19, (removed, added)
    for line in removed:
        assert line + "," in added or any(f'"{key}"' in line for key in
                                          ("active", "correlationId", "terminationReason", "expandInlineJSON"))


def test_an_upload_never_reverts_a_server_edit_unseen(uploaded, client, capsys):
    name, path = uploaded
    edited = on_server(client, name)
    edited["active"] = False
    client.update_event_handler(edited)
    refused = run_cli(capsys, "events", "upload", "--all", "--json")
    assert refused.code == 3 and name in refused.err and "edited on the server" in refused.err
    assert on_server(client, name)["active"] is False
    done = run_cli(capsys, "events", "upload", "--all", "--overwrite-server-edits", "--json")
    assert done.code == 0 and written(done.json) == [name] and on_server(client, name)["active"] is True
    path.write_text(path.read_text().replace('"conductor:wf:done"', '"conductor:wf:finished"'))
    changed = run_cli(capsys, "events", "upload", "--all", "--json")          # the code moved: an update
    assert changed.code == 0 and on_server(client, name)["event"] == "conductor:wf:finished"
