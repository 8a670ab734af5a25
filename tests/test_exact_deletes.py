"""Exact deletes: every name reaches the server as itself, or is refused before anything is written;
the purge result is what the server holds afterwards (read back once), never what was intended.

Server facts (Conductor OSS 3.32.3, measured; see idflow/conductor/paths.py): any name can be
stored, but an encoded `/` (%2F), `\\` (%5C) or NUL (%00) in a path is answered 400 by Tomcat,
so such a definition can never be read or deleted by name. Everything else, `.` and `..`
included when sent as %2E, reaches Conductor as exactly the name.
"""
from __future__ import annotations

import json
import shutil
import urllib.parse
from pathlib import Path

import httpx
import pytest

from idflow.conductor.paths import addressable, segment
from idflow.base.errors import UnaddressableName
from tests.clihelp import run_cli, task_source

# Suffixes that today's server addresses exactly; with a raw path, each one reached another name.
ADDRESSABLE = {"hash": "#old", "query": "?y=1", "percent": "%", "encoded_slash": "%2F..", "semicolon": ";old",
               "dot": ".old", "dots": "..", "space": " old", "unicode": "\u00e9\u4e2d\U0001F600", "amp": "&y=2",
               "plus": "+y", "tab": "\tx", "newline": "\nx", "quote": "\"x", "brace": "{x}"}
# Whole names: no prefix can be put in front of a name that is only dots.
DOT_NAMES = {"single_dot": ".", "double_dot": ".."}
# Fixed names (the server can store them, never delete them: the prefix cleanup could not either).
UNADDRESSABLE = {"slash": "idflow-test-unaddressable/slash", "dotdot": "idflow-test-unaddressable/..",
                 "trailing_slash": "idflow-test-unaddressable/", "backslash": "idflow-test-unaddressable\\back",
                 "nul": "idflow-test-unaddressable\x00nul"}
SIBLING = "idflow-test-unaddressable"
# Other engineers' tests put DYNAMIC workflows on the shared server for a while; they make every
# purge "uncertain". These tests are about which name a delete reaches, so they force past usage.
FORCE = ("--force",)


def taskdef(name: str, description: str = "exact-delete test") -> dict:
    return {"name": name, "description": description, "retryCount": 1, "timeoutSeconds": 60,
            "responseTimeoutSeconds": 10, "ownerEmail": "test@example.com"}


def stamped_as(name: str, description: str) -> dict:
    """taskdef(name) carrying the stamp in `description`, re-hashed for this body."""
    from dataclasses import replace

    from idflow.provenance.trailer import base_fields, content_hash, parse_provenance, stamp

    body = taskdef(name, "")
    prov = parse_provenance(description)
    return {**body, "description": stamp("", replace(prov, hash=content_hash(body, base_fields(prov, body))))}


def workflow(name: str, version: int = 1) -> dict:
    return {"name": name, "version": version, "schemaVersion": 2, "ownerEmail": "test@example.com",
            "tasks": [{"name": "set", "taskReferenceName": "set", "type": "SET_VARIABLE",
                       "inputParameters": {"x": 1}}]}


def server_names(client) -> set[str]:
    return {d["name"] for d in client.list_taskdefs()}


def backups(project) -> list[Path]:
    return sorted((project.root / ".idflow" / "backups").glob("*-purge.json"))


# ---- the rule, pure ----------------------------------------------------------------------------
@pytest.mark.parametrize("name", [f"x{s}" for s in ADDRESSABLE.values()] + list(DOT_NAMES.values()),
                         ids=list(ADDRESSABLE) + list(DOT_NAMES))
def test_an_addressable_name_is_one_segment_that_decodes_to_itself(name):
    encoded = segment(name)
    assert addressable(name) is None
    assert urllib.parse.unquote(encoded, errors="strict") == name
    assert all(c.isascii() and c.isalnum() or c in "%-_~" for c in encoded)


@pytest.mark.parametrize("name", [*UNADDRESSABLE.values(), "", "x\ud800", "x" * 5000],
                         ids=[*UNADDRESSABLE, "empty", "lone_surrogate", "too_long"])
def test_an_unaddressable_name_is_refused_with_a_reason(name):
    assert addressable(name)
    with pytest.raises(UnaddressableName) as caught:
        segment(name)
    assert caught.value.exit_code == 3


# ---- the rule matches the real server -----------------------------------------------------------
@pytest.mark.server
@pytest.mark.parametrize("kind", [*UNADDRESSABLE, *ADDRESSABLE])
def test_the_rule_matches_what_the_server_answers(conductor_url, kind):
    """An encoded GET of a name nobody stores: 404 naming exactly it, or the 400 the rule predicts."""
    name = UNADDRESSABLE.get(kind) or f"idflow-test-absent{ADDRESSABLE[kind]}"
    encoded = urllib.parse.quote(name, safe="").replace(".", "%2E")
    answer = httpx.get(f"{conductor_url}/metadata/taskdefs/{encoded}", timeout=10)
    if addressable(name):
        assert answer.status_code == 400
    else:
        assert answer.status_code == 404 and answer.json()["message"].endswith(f"by name: {name}")


# ---- every path the client builds ---------------------------------------------------------------
CALLS = {"get_taskdef": ("/api/metadata/taskdefs/", lambda c, n: c.get_taskdef(n)),
         "delete_taskdef": ("/api/metadata/taskdefs/", lambda c, n: c.delete_taskdef(n)),
         "get_workflow": ("/api/metadata/workflow/", lambda c, n: c.get_workflow(n, 1)),
         "delete_workflow": ("/api/metadata/workflow/", lambda c, n: c.delete_workflow(n, 1)),
         "get_execution": ("/api/workflow/", lambda c, n: c.get_execution(n))}


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("suffix", ADDRESSABLE.values(), ids=ADDRESSABLE)
def test_each_path_carries_the_name_as_one_exact_segment(fault_proxy, call, suffix):
    from idflow.conductor.client import ConductorClient, RetryPolicy
    from idflow.base.errors import NotFound

    proxy = fault_proxy("http://127.0.0.1:9/api")   # nothing is forwarded: every request is answered 404
    proxy.add_rule(action="status", status=404, body={"message": "not here"})
    base, do = CALLS[call]
    name = "x" + suffix
    with ConductorClient(proxy.url, retry=RetryPolicy(max_retries=0)) as client, pytest.raises(NotFound):
        do(client, name)
    [request] = proxy.requests
    assert request.query in ("", "version=1", "includeTasks=true")
    assert request.path.startswith(base)
    tail = request.path[len(base):]
    first = tail.split("/")[0]
    assert urllib.parse.unquote(first) == name
    assert tail in (first, f"{first}/1")


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize("kind", UNADDRESSABLE)
def test_the_client_sends_nothing_for_an_unaddressable_name(fault_proxy, call, kind):
    from idflow.conductor.client import ConductorClient

    proxy = fault_proxy("http://127.0.0.1:9/api")
    with ConductorClient(proxy.url) as client, pytest.raises(UnaddressableName):
        CALLS[call][1](client, UNADDRESSABLE[kind])
    assert proxy.requests == []


# ---- purge by name against the real server ---------------------------------------------------------

@pytest.mark.server
@pytest.mark.parametrize("suffix", ADDRESSABLE.values(), ids=ADDRESSABLE)
def test_purge_deletes_exactly_the_name_given_and_never_its_sibling(project, prefix, client, capsys, suffix):
    sibling, target = prefix + "x", prefix + "x" + suffix
    client.upsert_taskdefs([taskdef(sibling, "the sibling a workflow runs"), taskdef(target)])
    client.upsert_workflows([{**workflow(prefix + "wf"), "tasks": [
        {"name": sibling, "taskReferenceName": "s", "type": "SIMPLE"}]}])
    before = client.get_taskdef(sibling)
    result = run_cli(capsys, "tasks", "purge", target, *FORCE, "-y", "--json")
    assert result.code == 0, result.err
    assert result.json["deleted"] == [target]
    assert result.json["failed"] == [] and result.json["unknown"] == []
    names = server_names(client)
    assert target not in names and sibling in names
    assert client.get_taskdef(sibling) == before
    [backup] = backups(project)
    assert [d["name"] for d in json.loads(backup.read_text())["taskdefs"]] == [target]


@pytest.mark.server
@pytest.mark.parametrize("name", DOT_NAMES.values(), ids=DOT_NAMES)
def test_purge_of_a_name_that_is_only_dots(project, client, capsys, name):
    client.upsert_taskdefs([taskdef(name)])
    try:
        result = run_cli(capsys, "tasks", "purge", name, *FORCE, "-y", "--json")
        assert result.code == 0, result.err
        assert result.json["deleted"] == [name] and result.json["unknown"] == []
        assert name not in server_names(client)
    finally:  # by hand, so that a broken client cannot leave a dot name behind
        httpx.delete(f"{client.api_url}/metadata/taskdefs/{'%2E' * len(name)}", timeout=10)


@pytest.fixture
def unaddressable_on_server(client):
    """The fixed unaddressable definitions (upserted: they can never be deleted) and a sibling
    whose name an unencoded path could reach."""
    client.upsert_taskdefs([taskdef(n) for n in UNADDRESSABLE.values()] + [taskdef(SIBLING)])
    yield
    client.delete_taskdef(SIBLING)


@pytest.mark.server
@pytest.mark.parametrize("kind", UNADDRESSABLE)
def test_purge_of_an_unaddressable_name_is_refused_before_anything_is_written(
        project, client, capsys, unaddressable_on_server, fault_proxy, kind):
    name = UNADDRESSABLE[kind]
    proxy = fault_proxy()
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "purge", name, *FORCE, "-y", "--json")
    assert result.code == 3, result.err
    assert result.json["error"]["type"] == "UnaddressableName"
    assert "cannot be addressed exactly" in result.json["error"]["message"]
    assert proxy.count("DELETE") == 0 and proxy.count("PUT") == 0 and proxy.count("POST") == 0
    assert backups(project) == []
    assert {name, SIBLING} <= server_names(client)


@pytest.mark.server
def test_orphaned_purge_keeps_an_unaddressable_orphan_with_its_reason_and_deletes_the_rest(
        project, prefix, client, capsys, unaddressable_on_server):
    orphan = prefix + "gone"
    project.write_task(orphan, task_source(orphan))
    assert run_cli(capsys, "tasks", "upload", orphan).code == 0
    shutil.rmtree(project.tasks_dir / orphan)
    # This project's stamp, with each one's own hash: the fixed names become its orphans, unedited since.
    client.upsert_taskdefs([stamped_as(n, client.get_taskdef(orphan)["description"]) for n in UNADDRESSABLE.values()])
    result = run_cli(capsys, "tasks", "purge", "--orphaned", *FORCE, "-y", "--json")
    assert result.code == 0, result.err
    assert result.json["deleted"] == [orphan] and result.json["unknown"] == []
    skipped = {s["name"]: s["reason"] for s in result.json["skipped"]}
    for name in UNADDRESSABLE.values():
        assert skipped[name].startswith("cannot be deleted exactly on this server")
    [backup] = backups(project)
    assert [d["name"] for d in json.loads(backup.read_text())["taskdefs"]] == [orphan]
    assert SIBLING in server_names(client)


@pytest.mark.parametrize("kind", UNADDRESSABLE)
def test_a_plan_that_bypassed_the_screen_is_refused_before_the_backup(tmp_path, fault_proxy, kind):
    """A saved or hand-made plan (a flow's document) with an unaddressable deletion: no backup, no request."""
    from idflow.conductor.client import ConductorClient
    from idflow.taskdefs.purge import Deletion, PurgePlan, execute_purge

    proxy = fault_proxy("http://127.0.0.1:9/api")
    plan = PurgePlan([Deletion("idflow-test-fine", "orphaned", taskdef("idflow-test-fine")),
                      Deletion(UNADDRESSABLE[kind], "orphaned", taskdef(UNADDRESSABLE[kind]))])
    with ConductorClient(proxy.url) as client, pytest.raises(UnaddressableName) as caught:
        execute_purge(client, plan, state_dir=tmp_path)
    assert caught.value.names == [UNADDRESSABLE[kind]]
    assert proxy.requests == [] and list(tmp_path.rglob("*.json")) == []


# ---- the read-back -----------------------------------------------------------------------------------
@pytest.mark.server
@pytest.mark.parametrize("how", ["by_name", "orphaned"])
def test_a_delete_answered_ok_that_left_the_definition_is_still_present(project, prefix, client, capsys,
                                                                        fault_proxy, how):
    names = [prefix + f"kept{i}" for i in range(3)]
    for name in names:
        project.write_task(name, task_source(name))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    for name in names:
        shutil.rmtree(project.tasks_dir / name)
    proxy = fault_proxy()
    proxy.add_rule(method="DELETE", path="/api/metadata/taskdefs/", action="status", status=200, body={})
    argv = names if how == "by_name" else ["--orphaned"]
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "purge", *argv, *FORCE, "-y", "--json")
    assert result.code == 1
    assert sorted(f["name"] for f in result.json["failed"]) == sorted(names)
    assert all("still holds it" in f["errors"][0] for f in result.json["failed"])
    assert result.json["deleted"] == [] and result.json["unknown"] == []
    assert set(names) <= server_names(client)
    # One list read after all the deletes, not one read per name.
    last_delete = max(i for i, r in enumerate(proxy.requests) if r.method == "DELETE")
    after = [(r.method, r.path) for r in proxy.requests[last_delete + 1:]]
    assert after == [("GET", "/api/metadata/taskdefs")]
    assert proxy.count("DELETE") == len(names)
    plain = run_cli(capsys, "--server-url", proxy.url, "tasks", "purge", *argv, *FORCE, "-y")
    assert plain.code == 1 and all(f"not deleted {n}:" in plain.out + plain.err for n in names)


@pytest.mark.server
@pytest.mark.parametrize("on_server, answer, outcome", [
    (False, None, "deleted"),        # gone before its delete (500 "No such ..."): the read-back confirms it
    (True, 404, "failed"),           # "not found", yet the server holds it: not deleted
    (True, 500, "failed"),
    (True, 200, "failed"),           # answered OK, yet the server still holds it
    (True, None, "deleted"),
], ids=["already_gone", "404_but_present", "500_but_present", "200_but_present", "really_deleted"])
def test_the_account_is_what_the_server_holds(project, prefix, client, fault_proxy, on_server, answer, outcome):
    from idflow.conductor.client import ConductorClient, RetryPolicy
    from idflow.taskdefs.purge import Deletion, PurgePlan, execute_purge

    name = prefix + "acct"
    copy = taskdef(name)
    if on_server:
        client.upsert_taskdefs([copy])
    proxy = fault_proxy()
    if answer:
        proxy.add_rule(method="DELETE", path="/api/metadata/taskdefs/", action="status", status=answer)
    with ConductorClient(proxy.url, retry=RetryPolicy(max_retries=0)) as via_proxy:
        result = execute_purge(via_proxy, PurgePlan([Deletion(name, "named", copy)]), state_dir=project.root)
    accounts = {"deleted": result.deleted, "failed": [f["name"] for f in result.failed],
                "unknown": [f["name"] for f in result.unknown]}
    assert {k: v for k, v in accounts.items() if v} == {outcome: [name]}
    assert result.ok == (outcome == "deleted")
    assert (name in server_names(client)) == (outcome != "deleted")
    assert result.to_json()[outcome] and set(result.to_json()) == {"deleted", "failed", "unknown", "not_attempted",
                                                                  "backup", "interrupted", "requests"}


@pytest.mark.server
def test_a_failed_read_back_confirms_nothing(project, prefix, client, fault_proxy):
    from idflow.conductor.client import ConductorClient, RetryPolicy
    from idflow.taskdefs.purge import Deletion, PurgePlan, execute_purge

    name = prefix + "unread"
    client.upsert_taskdefs([taskdef(name)])
    proxy = fault_proxy()
    proxy.add_rule(method="GET", path="/api/metadata/taskdefs", action="status", status=500)
    with ConductorClient(proxy.url, retry=RetryPolicy(max_retries=0)) as via_proxy:
        result = execute_purge(via_proxy, PurgePlan([Deletion(name, "named", taskdef(name))]),
                               state_dir=project.root)
    assert result.deleted == [] and result.failed == [] and not result.ok
    [unknown] = result.unknown                  # deleted or not, nobody can say: never reported as deleted
    assert unknown["name"] == name and "could not read back" in unknown["errors"][0]


# ---- workflows ------------------------------------------------------------------------------------------
@pytest.mark.server
@pytest.mark.parametrize("suffix", ["#2", "?v=1", "%2", ";2", ".2", "..", " 2", "\u00e9", "%2F2"],
                         ids=["hash", "query", "percent", "semicolon", "dot", "dots", "space", "unicode",
                              "encoded_slash"])
def test_a_workflow_with_a_special_name_uploads_and_is_reported_written(project, prefix, client, capsys, suffix):
    name = prefix + "w" + suffix
    (project.workflows_dir / "w.json").write_text(json.dumps(workflow(name)), encoding="utf-8")
    result = run_cli(capsys, "workflows", "upload", "--all", "--json")
    assert result.code == 0, result.err
    assert [w["name"] for w in result.json["created"]] == [name] and result.json["failed"] == []
    assert client.get_workflow(name, 1)["name"] == name
    again = run_cli(capsys, "workflows", "upload", "--all", "--json")   # the read-back found it: unchanged
    assert again.code == 0 and [w["name"] for w in again.json["unchanged"]] == [name]


@pytest.mark.server
@pytest.mark.parametrize("suffix", ["/2", "/..", "\\2"], ids=["slash", "slash_dotdot", "backslash"])
def test_a_workflow_the_server_could_not_read_back_is_refused_before_it_is_written(
        project, client, capsys, fault_proxy, suffix):
    name = "idflow-test-unaddressable-wf" + suffix   # fixed: if ever written, it can never be deleted
    (project.workflows_dir / "w.json").write_text(json.dumps(workflow(name)), encoding="utf-8")
    proxy = fault_proxy()
    result = run_cli(capsys, "--server-url", proxy.url, "workflows", "upload", "--all", "--json")
    assert result.code == 3, result.err
    assert result.json["error"]["type"] == "UnaddressableName"
    assert proxy.count("PUT") == 0 and proxy.count("POST") == 0
    assert name not in {w["name"] for w in client.list_workflows()}


@pytest.mark.server
@pytest.mark.parametrize("suffix", ["#2", "?v=1", "%2F..", ";2", ".."], ids=["hash", "query", "encoded_slash",
                                                                          "semicolon", "dots"])
def test_a_workflow_delete_removes_exactly_that_workflow_version(prefix, client, suffix):
    sibling, target = prefix + "w", prefix + "w" + suffix
    client.upsert_workflows([workflow(sibling), workflow(target), workflow(target, 2)])
    client.delete_workflow(target, 1)
    held = {(w["name"], w["version"]) for w in client.list_workflows() if w["name"].startswith(prefix)}
    assert held == {(sibling, 1), (target, 2)}
