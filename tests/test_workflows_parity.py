"""Workflows at parity with tasks, against the real server: `workflows diff` and its three-way states, `upload`
refusing to revert a server edit unseen, `workflows purge` and its usage check, `history` and `rollback`.

What Conductor OSS 3.32 does, checked before asserting: it registers a SUB_WORKFLOW or START_WORKFLOW naming a
workflow that does not exist; `GET /workflow/running/{name}?version=N` answers the running executions of *every*
version of the name (the version is ignored), so the purge reads each execution's own version; it has no
scheduler API (`/scheduler/schedules` answers 404).
"""
from __future__ import annotations

import json

import pytest

from tests.clihelp import run_cli, task_source
from tests.eventhelp import handler, handler_prefix, ledgers  # noqa: F401  (fixtures)
from tests.gitrepo import commit_all
from tests.test_git import repo  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.server, pytest.mark.usefixtures("ledgers")]


def wf(name: str, tasks: list, version: int = 1, **extra) -> dict:
    return {"name": name, "version": version, "schemaVersion": 2, "ownerEmail": "dev@example.org", "tasks": tasks,
            **extra}


def simple(name: str, ref: str = "s") -> dict:
    return {"name": name, "taskReferenceName": ref, "type": "SIMPLE"}


def write(project, definition: dict) -> None:
    path = project.workflows_dir / f"{definition['name']}.v{definition['version']}.json"
    path.write_text(json.dumps(definition, indent=2))


def remove(project, name: str, version: int = 1) -> None:
    (project.workflows_dir / f"{name}.v{version}.json").unlink()


@pytest.fixture
def task(project, prefix, capsys):
    name = prefix + "step"
    project.write_task(name, task_source(name, retry_count=1))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    return name


def upload(capsys, *args):
    done = run_cli(capsys, "workflows", "upload", *(args or ("--all",)), "--json")
    assert done.code == 0, done.err
    return done.json


# ---- diff and the three-way states --------------------------------------------------------------------------

def test_diff_shows_each_three_way_state_and_upload_refuses_server_edits(project, prefix, task, client, capsys):
    n = {k: prefix + k for k in ("same", "code", "server", "both", "nobase", "gone", "foreign")}
    for key in ("same", "code", "server", "both", "gone"):
        write(project, wf(n[key], [simple(task)], description="first"))
    upload(capsys)
    write(project, wf(n["code"], [simple(task)], description="code edit"))
    write(project, wf(n["both"], [simple(task)], description="code edit"))
    for key in ("server", "both"):   # a human edit in the UI: the server copy, changed, PUT back
        client.upsert_workflows([{**client.get_workflow(n[key], 1), "description": "edited in the UI"}])
    client.upsert_workflows([wf(n["nobase"], [simple(task)], description="made by hand"),
                             wf(n["foreign"], [simple(task)])])
    write(project, wf(n["nobase"], [simple(task)], description="in the file"))
    remove(project, n["gone"])

    looked = run_cli(capsys, "workflows", "diff", *n.values(), "--json")
    assert looked.code == 4, looked.err
    states = {i["name"]: i["state"] for i in looked.json["items"]}
    assert states == {n["same"]: "in_sync", n["code"]: "code_changed", n["server"]: "server_changed",
                      n["both"]: "conflict", n["nobase"]: "uncertain", n["gone"]: "orphaned",
                      n["foreign"]: "not_ours"}
    listed = run_cli(capsys, "workflows", "list", "--sync", "--json")   # the listing says what the diff says
    ours = {label.rsplit(" v", 1)[0]: v["state"] for label, v in listed.json["states"].items()}
    assert {name: ours[name] for name in n.values()} == states
    assert listed.json["counts"]["server_changed"] >= 1 and listed.json["changed"]   # the old keys stay
    text = run_cli(capsys, "workflows", "list", "--sync")
    assert f"{n['server']} v1: server changed" in text.out and f"{n['both']} v1: both changed (conflict)" in text.out
    code = next(i for i in looked.json["items"] if i["name"] == n["code"])
    assert code["changes"] == [{"path": "description", "server": "first", "local": "code edit"}]
    assert run_cli(capsys, "workflows", "diff", n["same"], "--json").code == 0

    refused = run_cli(capsys, "workflows", "upload", "--all", "--json")
    message = refused.json["error"]["message"]
    assert refused.code == 3 and f"{n['server']} v1: server_changed" in message
    assert f"{n['both']} v1: conflict" in message
    assert client.get_workflow(n["code"], 1)["description"] == "first"   # nothing was written
    forced = upload(capsys, "--all", "--overwrite-server-edits")
    assert {(r["name"]) for r in forced["updated"]} == {n["code"], n["server"], n["both"], n["nobase"]}
    assert client.get_workflow(n["server"], 1)["description"] == "first"
    after = run_cli(capsys, "workflows", "diff", n["server"], n["both"], n["nobase"], "--json")
    assert after.code == 0 and {i["state"] for i in after.json["items"]} == {"in_sync"}


# ---- purge: usage at any depth, by every source ---------------------------------------------------------------

def sub(child: str, ref: str = "sub", version: int | None = None) -> dict:
    param = {"name": child} if version is None else {"name": child, "version": version}
    return {"name": "sub", "taskReferenceName": ref, "type": "SUB_WORKFLOW", "subWorkflowParam": param}


def start(child: str, ref: str = "st") -> dict:
    return {"name": "start", "taskReferenceName": ref, "type": "START_WORKFLOW",
            "inputParameters": {"startWorkflow": {"name": child, "version": 1, "input": {}}}}


def nestings(child: str, prefix: str) -> dict[str, tuple[list, str]]:
    """(tasks of a parent that uses `child` this way, where the use is)."""
    inline = {"name": prefix + "inline", "version": 1, "schemaVersion": 2, "tasks": [sub(child, "deep")]}
    return {
        "top_level": ([sub(child)], "tasks[0]"),
        "start_workflow": ([start(child)], "tasks[0]"),
        "fork_join": ([{"name": "fork", "taskReferenceName": "f", "type": "FORK_JOIN",
                        "forkTasks": [[{"name": "w", "taskReferenceName": "w", "type": "WAIT"}], [sub(child)]]},
                       {"name": "join", "taskReferenceName": "j", "type": "JOIN", "joinOn": ["w", "sub"]}],
                      "tasks[0].forkTasks[1][0]"),
        "switch_case": ([{"name": "sw", "taskReferenceName": "sw", "type": "SWITCH", "evaluatorType": "value-param",
                          "expression": "k", "inputParameters": {"k": "${workflow.input.k}"},
                          "decisionCases": {"a": [start(child)]}, "defaultCase": []}],
                        'tasks[0].decisionCases["a"][0]'),
        "switch_default": ([{"name": "sw", "taskReferenceName": "sw", "type": "SWITCH",
                             "evaluatorType": "value-param", "expression": "k",
                             "inputParameters": {"k": "${workflow.input.k}"},
                             "decisionCases": {"a": [{"name": "w", "taskReferenceName": "w", "type": "WAIT"}]},
                             "defaultCase": [sub(child)]}], "tasks[0].defaultCase[0]"),
        "do_while": ([{"name": "loop", "taskReferenceName": "loop", "type": "DO_WHILE",
                       "loopCondition": "if ($.loop['iteration'] < 2) { true; } else { false; }",
                       "loopOver": [sub(child)]}], "tasks[0].loopOver[0]"),
        "inline_sub_workflow": ([{"name": "outer", "taskReferenceName": "outer", "type": "SUB_WORKFLOW",
                                  "subWorkflowParam": {"name": prefix + "inline", "version": 1,
                                                       "workflowDefinition": inline}}],
                                "tasks[0].subWorkflowParam.workflowDefinition.tasks[0]"),
        "inline_start_workflow": ([{"name": "st", "taskReferenceName": "st", "type": "START_WORKFLOW",
                                    "inputParameters": {"startWorkflow": {"name": prefix + "inline", "version": 1,
                                                                          "workflowDef": inline}}}],
                                  "tasks[0].inputParameters.startWorkflow.workflowDef.tasks[0]"),
    }


@pytest.fixture
def orphan(project, prefix, task, capsys):
    """A workflow this project uploaded, then removed from the files: what --orphaned may delete."""
    child = prefix + "child"
    write(project, wf(child, [simple(task)]))
    upload(capsys)
    remove(project, child)
    return child


def deleted(doc) -> list[tuple[str, int]]:
    return [(r["name"], r["version"]) for r in doc["deleted"]]


def others_doubts(doc, prefix) -> bool:
    """Another engineer's workflow on the shared server may choose at run time what it starts."""
    return bool(doc["plan"]["uncertain"]) and not any(prefix in u for u in doc["plan"]["uncertain"])


def purge_expecting(capsys, prefix, *args) -> dict:
    """Purge what must go; where only another test's run-time choice kept it, --force must take it alone."""
    done = run_cli(capsys, "workflows", "purge", *args, "-y", "--json")
    assert done.code in (0, 3), done.err
    if done.json["deleted"] or not others_doubts(done.json, prefix):
        return done.json
    assert any(s["reason"].startswith("usage uncertain") for s in done.json["skipped"] if prefix in s["name"])
    forced = run_cli(capsys, "workflows", "purge", *args, "--force", "-y", "--json")
    assert forced.code == 0, forced.err
    assert all(u.startswith("usage uncertain") for d in forced.json["plan"]["delete"] for u in d["forced_uses"])
    return forced.json


@pytest.mark.parametrize("case", sorted(nestings("x", "p")))
def test_purge_keeps_a_workflow_another_uses_at_any_depth(orphan, project, prefix, client, capsys, case):
    tasks, where = nestings(orphan, prefix)[case]
    parent = prefix + "parent"
    client.upsert_workflows([wf(parent, tasks)])
    for args in ([orphan], ["--orphaned"]):
        kept = run_cli(capsys, "workflows", "purge", *args, "-y", "--json")
        assert kept.code in (0, 3), kept.err
        skip = next(s for s in kept.json["skipped"] if s["name"] == orphan)
        assert skip["version"] == 1 and skip["reason"].startswith("used")
        assert any(u.startswith(f"workflow {parent} v1 {where} ") for u in skip["used_by"]), skip
        assert client.get_workflow(orphan, 1)["name"] == orphan
    forced = run_cli(capsys, "workflows", "purge", orphan, "--force", "-y", "--json")
    assert forced.code == 0 and deleted(forced.json) == [(orphan, 1)], forced.err
    assert "FORCED" in forced.err and parent in forced.err
    assert client.get_workflow(parent, 1)["name"] == parent   # the user is never touched
    looked = run_cli(capsys, "workflows", "purge", parent, "--force", "--dry-run", "--json")  # says whose it is
    assert looked.json["plan"]["delete"][0]["note"].startswith("deleted because named, though not ours")


def test_purge_keeps_a_workflow_an_event_handler_starts(orphan, project, prefix, handler_prefix, client, capsys):
    name = handler_prefix + "h"
    client.create_event_handler(handler(name, f"conductor:{orphan}:done", start=orphan))
    kept = run_cli(capsys, "workflows", "purge", "--orphaned", "-y", "--json")
    skip = next(s for s in kept.json["skipped"] if s["name"] == orphan)
    assert skip["used_by"] == [f"event handler {name} actions[0] (version latest)"]
    assert "server has no schedules (no scheduler API): none checked" in kept.json["notes"]
    client.delete_event_handler(name)
    gone = purge_expecting(capsys, prefix, "--orphaned")
    assert (orphan, 1) in deleted(gone)


def test_a_running_execution_keeps_its_version_only(project, prefix, task, client, capsys):
    name = prefix + "waits"
    wait = [{"name": "w", "taskReferenceName": "w", "type": "WAIT"}]
    write(project, wf(name, wait))
    write(project, wf(name, wait, version=2))
    upload(capsys)
    run_id = client.start_workflow(name, {}, version=1)
    try:
        done = run_cli(capsys, "workflows", "purge", name, "-y", "--json").json
        skips = {s["version"]: s for s in done["skipped"] if s["name"] == name}
        assert "RUNNING" in skips[1]["reason"] and skips[1]["used_by"] == [f"RUNNING execution {run_id}"]
        # The server lists v1's run for v2 too: each run's own version is read, so v2 is free to go (unless another
        # test's workflow on the shared server makes all usage uncertain).
        assert deleted(done) == [(name, 2)] or (others_doubts(done, prefix) and
                                                skips[2]["reason"].startswith("usage uncertain"))
        assert client.get_workflow(name, 1)["version"] == 1
        forced = run_cli(capsys, "workflows", "purge", name, "--force", "-y", "--json")
        assert (name, 1) in deleted(forced.json) and f"RUNNING execution {run_id}" in forced.err
    finally:
        client.terminate_workflow(run_id, "test over")


def test_orphaned_keeps_versions_not_ours_or_uncertain(project, prefix, task, client, capsys):
    name = prefix + "mixed"
    for version in (1, 3):
        write(project, wf(name, [simple(task)], version=version))
    upload(capsys)
    client.upsert_workflows([wf(name, [simple(task)], version=2, description="someone else's")])
    client.upsert_workflows([{**client.get_workflow(name, 3), "description": "edited in the UI"}])
    for version in (1, 3):
        remove(project, name, version)
    looked = run_cli(capsys, "workflows", "purge", "--orphaned", "--dry-run", "--json")
    assert looked.code == 0, looked.err
    mine = {(s["version"]): s["reason"] for s in looked.json["skipped"] if s["name"] == name}
    assert mine[2].startswith("not_ours") and mine[3].startswith("uncertain: edited on the server")
    done = purge_expecting(capsys, prefix, "--orphaned")
    assert [d for d in deleted(done) if d[0] == name] == [(name, 1)]
    assert {d["version"] for d in client.list_workflows() if d["name"] == name} == {2, 3}
    backup = json.loads(open(done["backup"]).read())
    assert "workflows" in json.dumps(backup) and name in json.dumps(backup)


def test_purge_without_a_terminal_asks_for_y(orphan, capsys, client):
    refused = run_cli(capsys, "workflows", "purge", orphan, "--force", "--json")
    assert refused.code == 3 and "-y" in refused.err
    assert client.get_workflow(orphan, 1)["name"] == orphan


# ---- history and rollback --------------------------------------------------------------------------------------

def test_history_and_rollback_restore_a_version(repo, prefix, task, client, capsys):
    name = prefix + "rb"
    write(repo, wf(name, [simple(task)], description="first"))
    write(repo, wf(name, [simple(task)], version=2, description="v2 first"))
    first = commit_all(repo.root, "first")
    write(repo, wf(name, [simple(task)], description="second"))
    second = commit_all(repo.root, "second")
    upload(capsys)

    found = run_cli(capsys, "workflows", "history", name, "--json")
    assert found.code == 0, found.err
    assert [(c["sha"], c["versions"]) for c in found.json["commits"]] == [
        (second, [{"version": 1, "change": "changed", "path": f"idflow/workflows/{name}.v1.json"}]),
        (first, [{"version": 1, "change": "added", "path": f"idflow/workflows/{name}.v1.json"},
                 {"version": 2, "change": "added", "path": f"idflow/workflows/{name}.v2.json"}])]
    assert [(s["version"], s["state"], s["matches"]) for s in found.json["server"]] == [
        (1, "in_sync", second), (2, "in_sync", first)]

    looked = run_cli(capsys, "workflows", "rollback", name, "--to", first, "--dry-run", "--json")
    assert looked.code == 0, looked.err
    assert looked.json["would_write"] == [{"name": name, "version": 1, "path": f"idflow/workflows/{name}.v1.json"}]
    assert [u["version"] for u in looked.json["unchanged"]] == [2]
    assert client.get_workflow(name, 1)["description"] == "second"
    done = run_cli(capsys, "workflows", "rollback", name, "--to", first, "-y", "--json")
    assert done.code == 0, done.err
    assert done.json["updated"] == [{"name": name, "version": 1, "path": f"idflow/workflows/{name}.v1.json"}]
    assert client.get_workflow(name, 1)["description"] == "first"
    backup = json.loads(open(done.json["backup"]).read())
    assert "second" in json.dumps(backup)                                # what it overwrote, backed up first
    assert json.loads((repo.workflows_dir / f"{name}.v1.json").read_text())["description"] == "second"  # untouched
    # The ledger recorded the rollback: the server now holds what idflow wrote, the file moved on.
    state = run_cli(capsys, "workflows", "diff", name, "--json").json["items"][0]
    assert state["state"] == "code_changed"

    again = run_cli(capsys, "workflows", "rollback", "--all", "--to", second, "-y", "--json")
    assert again.code == 0 and [r["version"] for r in again.json["updated"]] == [1], again.err

    # The same commands as text: what a person reads.
    shown = run_cli(capsys, "workflows", "history", name)
    assert shown.code == 0 and second[:10] in shown.out and "v1 changed" in shown.out
    assert "server v1: in sync" in shown.out
    text = run_cli(capsys, "workflows", "diff", name)
    assert text.code == 0 and f"{name} v1: in sync" in text.out
    looked = run_cli(capsys, "workflows", "rollback", name, "--to", first, "--dry-run")
    assert looked.code == 0 and f"would write {name} v1 as at {first[:10]}" in looked.out
    purge = run_cli(capsys, "workflows", "purge", name, "--force", "--dry-run")
    assert purge.code == 0 and f"- delete {name} v1" in purge.err and f"- delete {name} v2" in purge.err
    assert "dry run: would delete 2" in purge.out


def test_rollback_never_reverts_a_server_edit_unseen(repo, prefix, task, client, capsys):
    name = prefix + "rbedit"
    write(repo, wf(name, [simple(task)], description="first"))
    first = commit_all(repo.root, "first")
    write(repo, wf(name, [simple(task)], description="second"))
    commit_all(repo.root, "second")
    upload(capsys)
    client.upsert_workflows([{**client.get_workflow(name, 1), "description": "edited in the UI"}])
    refused = run_cli(capsys, "workflows", "rollback", name, "--to", first, "-y", "--json")
    assert refused.code == 3 and f"{name} v1: conflict" in refused.json["error"]["message"]
    assert client.get_workflow(name, 1)["description"] == "edited in the UI"
    done = run_cli(capsys, "workflows", "rollback", name, "--to", first, "-y", "--overwrite-server-edits", "--json")
    assert done.code == 0 and client.get_workflow(name, 1)["description"] == "first"


def test_outcomes_round_trip(repo, prefix, task, client, capsys):
    from tests.test_round_trip import again

    from idflow.project.config import load_config
    from idflow.usecases import Session
    from idflow.usecases.workflows_diff import workflows_diff
    from idflow.usecases.workflows_history import WorkflowHistory, WorkflowRollbackOutcome, workflows_history
    from idflow.usecases.workflows_history import workflows_rollback
    from idflow.usecases.workflows_purge import WorkflowPurgeOutcome, workflows_purge
    from idflow.workflowdefs.diff import WorkflowDiff

    name = prefix + "rt"
    write(repo, wf(name, [simple(task)], description="first"))
    first = commit_all(repo.root, "first")
    upload(capsys)
    write(repo, wf(name, [simple(task)], description="second"))
    commit_all(repo.root, "second")
    with Session(load_config()) as session:
        again(WorkflowDiff, workflows_diff(session, names=[name]))
        again(WorkflowHistory, workflows_history(session, name))
        again(WorkflowRollbackOutcome, workflows_rollback(session, first, names=[name], dry_run=True))
        again(WorkflowPurgeOutcome, workflows_purge(session, names=[name], dry_run=True))
        again(WorkflowPurgeOutcome, workflows_purge(session, names=[name], force=True))


def test_purge_keeps_a_workflow_a_local_file_uses(orphan, project, prefix, client, capsys):
    parent = prefix + "localparent"
    write(project, wf(parent, [sub(orphan, version=1)]))     # not uploaded: the next upload would need the child
    kept = run_cli(capsys, "workflows", "purge", "--orphaned", "-y", "--json")
    skip = next(s for s in kept.json["skipped"] if s["name"] == orphan)
    assert skip["used_by"] == [f"local file {project.workflows_dir.relative_to(project.root) / parent}.v1.json "
                               f"({parent}) tasks[0] (version 1)"]
    assert client.get_workflow(orphan, 1)["name"] == orphan


def test_a_broken_workflow_file_blocks_orphaned_and_is_no_verdict_on_drift(orphan, project, client, capsys):
    (project.workflows_dir / "broken.json").write_text("{ not json")
    refused = run_cli(capsys, "workflows", "purge", "--orphaned", "-y", "--json")
    assert refused.code == 3 and "could not be read" in refused.json["error"]["message"]
    assert client.get_workflow(orphan, 1)["name"] == orphan
    assert run_cli(capsys, "workflows", "diff", orphan, "--json").code == 1
