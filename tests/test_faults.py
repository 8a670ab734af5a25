"""Faults between idflow and the real server, injected by the fault proxy, for the commands
that read and write: `tasks list --sync`, `tasks upload --all`, `tasks purge --orphaned -y`
and `tasks rollback NAME... --to REV -y`.

Every scenario ends one of two ways: done (a transient fault was retried) or failed (exit 1)
with an exact account, in the --json document, of what was written and what was not. The
server is then checked with a direct client, a rerun without faults converges, and a second
rerun writes nothing. The last tests bound the retries: how many, how long, and never for
a 500 or for starting a workflow.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from idflow.provenance.trailer import parse_provenance
from tests.clihelp import run_cli, task_source
from tests.gitrepo import git, init_repo

pytestmark = pytest.mark.server

TASKDEFS = "/api/metadata/taskdefs"
# How each fault is made. Transient ones fire once (the retry gets through); "500" fires on
# every match (and is never retried); "truncate" cuts the JSON of the list GET in half.
FAULTS = {
    "429": dict(action="status", status=429, headers={"Retry-After": "1"}),
    "500": dict(action="status", status=500),
    "502": dict(action="status", status=502),
    "503": dict(action="status", status=503),
    "timeout": dict(action="delay", delay=2.5),  # with request_timeout_seconds: 1
    "drop": dict(action="drop"),
    "reset": dict(action="reset", keep=0.5),
    "truncate": dict(action="truncate", keep=0.5),
}
TRANSIENT = ("429", "502", "503", "timeout", "drop", "reset")
ALL = tuple(FAULTS)


def add_fault(proxy, fault: str, method: str, path: str, nth: int | None = None) -> None:
    spec = dict(FAULTS[fault])
    if fault in TRANSIENT and nth is None:
        spec["times"] = 1
    proxy.add_rule(method=method, path=path, nth=nth, **spec)


def configure(project, fault: str, **values) -> None:
    """Append settings to the project's config (a 1 s timeout for the delay fault)."""
    if fault == "timeout":
        values["request_timeout_seconds"] = 1
    lines = "".join(f"{k}: {v}\n" for k, v in values.items())
    project.config_path.write_text(project.config_path.read_text() + lines)


def writes(proxy) -> list[str]:
    return [f"{r.method} {r.path}" for r in proxy.requests if r.method != "GET"]


def timed(capsys, *argv):
    started = time.monotonic()
    result = run_cli(capsys, *argv)
    return result, time.monotonic() - started


def expect_retry_was_honoured(fault: str, elapsed: float) -> None:
    if fault == "429":
        assert elapsed >= 1.0, f"Retry-After: 1 was not waited for ({elapsed:.2f} s)"


def expect_error(result, kind: str, fragment: str) -> None:
    assert result.code == 1, result.err
    error = result.json["error"]
    assert error["type"] == kind and fragment in error["message"], error
    assert "Traceback" not in result.err


def converge(capsys, fault_proxy, *argv):
    """Rerun without faults, then once more: the second run must write nothing."""
    clean = fault_proxy()
    first = run_cli(capsys, "--server-url", clean.url, *argv)
    assert first.code == 0, first.err
    clean.clear()
    second = run_cli(capsys, "--server-url", clean.url, *argv)
    assert second.code == 0, second.err
    assert writes(clean) == [], "a second rerun still wrote"
    return first.json, second.json


# ---- tasks list --sync --------------------------------------------------------------------
@pytest.mark.parametrize("fault", ALL)
def test_list_sync(project, prefix, client, capsys, fault_proxy, fault):
    s, c, loc = prefix + "s", prefix + "c", prefix + "local"
    for name in (s, c):
        project.write_task(name, task_source(name, retry_count=1))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    project.write_task(c, task_source(c, retry_count=2))
    project.write_task(loc, task_source(loc))
    configure(project, fault)

    def mine(doc):
        return {k: [n for n in v if n.startswith(prefix)] for k, v in doc.items() if isinstance(v, list)}

    baseline = mine(run_cli(capsys, "tasks", "list", "--sync", "--json").json)
    assert (baseline["in_sync"], baseline["changed"], baseline["local_only"]) == ([s], [c], [loc])
    proxy = fault_proxy()
    add_fault(proxy, fault, "GET", TASKDEFS)
    result, elapsed = timed(capsys, "--server-url", proxy.url, "tasks", "list", "--sync", "--json")
    if fault in TRANSIENT:
        assert result.code == 0, result.err
        assert mine(result.json) == baseline
        assert proxy.count("GET", TASKDEFS) == 2  # one fault, one retry
        expect_retry_was_honoured(fault, elapsed)
    elif fault == "500":
        expect_error(result, "ServerError", "server error 500")
        assert proxy.count("GET", TASKDEFS) == 1  # never retried
    else:
        expect_error(result, "ServerError", "not valid JSON")
        assert proxy.count("GET", TASKDEFS) == 1
    assert writes(proxy) == []
    assert client.get_taskdef(c)["retryCount"] == 1 and loc not in {d["name"] for d in client.list_taskdefs()}
    again, _ = converge(capsys, fault_proxy, "tasks", "list", "--sync", "--json")
    assert mine(again) == baseline


# ---- tasks upload --all ---------------------------------------------------------------------
def upload_project(project, prefix, capsys):
    """n0 and n2 new, n1 changed (retry 1 -> 2), u unchanged; one definition per POST."""
    n0, n1, n2, u = (prefix + x for x in ("n0", "n1", "n2", "u"))
    project.write_task(n1, task_source(n1, retry_count=1))
    project.write_task(u, task_source(u))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    project.write_task(n1, task_source(n1, retry_count=2))
    for name in (n0, n2):
        project.write_task(name, task_source(name))
    return n0, n1, n2, u


@pytest.mark.parametrize("fault", ALL)
def test_upload(project, prefix, client, capsys, fault_proxy, fault):
    n0, n1, n2, u = upload_project(project, prefix, capsys)
    configure(project, fault, batch_size=1)
    proxy = fault_proxy()
    if fault == "truncate":
        add_fault(proxy, fault, "GET", TASKDEFS)
    else:
        add_fault(proxy, fault, "POST", TASKDEFS, nth=2)  # the batch holding n1
    result, elapsed = timed(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    proxy.stop()  # a delayed request still in the proxy is dropped, never written late
    on_server = {d["name"]: d for d in client.list_taskdefs() if d["name"].startswith(prefix)}

    if fault in TRANSIENT:
        assert result.code == 0, result.err
        doc = result.json
        assert (doc["created"], doc["updated"], doc["unchanged"]) == ([n0, n2], [n1], [u])
        assert doc["failed"] == [] and doc["not_attempted"] == []
        assert doc["requests"]["POST"] == 4 and proxy.count("POST", TASKDEFS) == 4  # 3 batches + 1 retry
        expect_retry_was_honoured(fault, elapsed)
        assert sorted(on_server) == sorted([n0, n1, n2, u]) and on_server[n1]["retryCount"] == 2
        backup = json.loads(open(doc["backup"]).read())
        assert [(d["name"], d["retryCount"]) for d in backup["taskdefs"]] == [(n1, 1)]
        expected_rerun = ([], [])
    elif fault == "500":
        assert result.code == 1
        doc = result.json
        assert (doc["created"], doc["updated"], doc["unchanged"]) == ([n0], [], [u])
        assert [f["name"] for f in doc["failed"]] == [n1] and "server error 500" in doc["failed"][0]["errors"][0]
        assert doc["not_attempted"] == [n2]
        assert proxy.count("POST", TASKDEFS) == 2  # the 500 was not retried, n2 never sent
        assert sorted(on_server) == sorted([n0, n1, u]) and on_server[n1]["retryCount"] == 1
        expected_rerun = ([n2], [n1])
    else:
        expect_error(result, "ServerError", "not valid JSON")
        assert writes(proxy) == [] and proxy.count("GET", TASKDEFS) == 1
        assert sorted(on_server) == sorted([n1, u]) and on_server[n1]["retryCount"] == 1
        expected_rerun = ([n0, n2], [n1])
    first, second = converge(capsys, fault_proxy, "tasks", "upload", "--all", "--json")
    assert (first["created"], first["updated"]) == expected_rerun
    assert (second["created"], second["updated"], sorted(second["unchanged"])) == ([], [], sorted([n0, n1, n2, u]))


def test_upload_unverifiable_is_not_reported_as_written(project, prefix, client, capsys, fault_proxy):
    """The writes succeed but the read-back is cut: idflow says it cannot vouch for them."""
    n0, n1, n2, u = upload_project(project, prefix, capsys)
    proxy = fault_proxy()
    add_fault(proxy, "truncate", "GET", TASKDEFS, nth=2)
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    assert result.code == 1
    doc = result.json
    assert doc["created"] == [] and doc["updated"] == [] and doc["not_attempted"] == [] and doc["failed"] == []
    assert [f["name"] for f in doc["unknown"]] == [n0, n1, n2]  # sent, but whether they hold is unknown
    assert all("could not read back to verify" in f["errors"][0] for f in doc["unknown"])
    assert client.get_taskdef(n1)["retryCount"] == 2  # written after all
    first, _ = converge(capsys, fault_proxy, "tasks", "upload", "--all", "--json")
    assert first["created"] == [] and first["updated"] == []  # nothing was left to write


# ---- tasks purge --orphaned -y ------------------------------------------------------------------
def purge_project(project, prefix, client, capsys):
    """o0..o2 orphaned (uploaded by this project, files gone), k kept (local), f foreign."""
    import shutil

    orphans = [prefix + f"o{i}" for i in range(3)]
    keep, foreign = prefix + "k", prefix + "f"
    for name in orphans + [keep]:
        project.write_task(name, task_source(name))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    for name in orphans:
        shutil.rmtree(project.tasks_dir / name)
    client.upsert_taskdefs([{"name": foreign, "timeoutSeconds": 60, "responseTimeoutSeconds": 30}])
    return orphans, keep, foreign


@pytest.mark.parametrize("fault", ALL)
def test_purge(project, prefix, client, capsys, fault_proxy, fault):
    orphans, keep, foreign = purge_project(project, prefix, client, capsys)
    o0, o1, o2 = orphans
    configure(project, fault)
    proxy = fault_proxy()
    if fault == "truncate":
        add_fault(proxy, fault, "GET", TASKDEFS)
    else:
        add_fault(proxy, fault, "DELETE", f"{TASKDEFS}/{o1}")
    result, elapsed = timed(capsys, "--server-url", proxy.url, "tasks", "purge", "--orphaned", "-y", "--json")
    proxy.stop()
    left = {d["name"] for d in client.list_taskdefs() if d["name"].startswith(prefix)}
    backups = sorted((project.root / ".idflow" / "backups").glob("*-purge.json"))

    if fault == "truncate":
        expect_error(result, "ServerError", "not valid JSON")
        assert writes(proxy) == [] and backups == []
        assert left == {o0, o1, o2, keep, foreign}
        expected_rerun = orphans
    else:
        doc = result.json
        assert {s["name"] for s in doc["skipped"] if s["name"].startswith(prefix)} == {foreign}
        assert [d["name"] for d in json.loads(backups[0].read_text())["taskdefs"]] == orphans  # all, first
        assert Path(doc["backup"]).name == backups[0].name and len(backups) == 1
        if fault in TRANSIENT:
            assert result.code == 0, result.err
            assert sorted(doc["deleted"]) == orphans and doc["failed"] == []
            assert proxy.count("DELETE", f"{TASKDEFS}/{o1}") == 2  # a reset one finds it gone: done
            expect_retry_was_honoured(fault, elapsed)
            assert left == {keep, foreign}
            expected_rerun = []
        else:
            assert result.code == 1
            assert sorted(doc["deleted"]) == [o0, o2] and [f["name"] for f in doc["failed"]] == [o1]
            assert proxy.count("DELETE", f"{TASKDEFS}/{o1}") == 1
            assert left == {o1, keep, foreign}
            expected_rerun = [o1]
    first, second = converge(capsys, fault_proxy, "tasks", "purge", "--orphaned", "-y", "--json")
    assert sorted(first["deleted"]) == expected_rerun and second["deleted"] == []
    assert {d["name"] for d in client.list_taskdefs() if d["name"].startswith(prefix)} == {keep, foreign}


def test_purge_with_usage_unknown_deletes_nothing(project, prefix, client, capsys, fault_proxy):
    """The workflow list (the usage check) fails: no delete is attempted, nothing is backed up."""
    orphans, keep, foreign = purge_project(project, prefix, client, capsys)
    proxy = fault_proxy()
    proxy.add_rule(method="GET", path="/api/metadata/workflow", action="status", status=500)
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "purge", "--orphaned", "-y", "--json")
    expect_error(result, "ServerError", "/metadata/workflow")
    assert writes(proxy) == [] and not (project.root / ".idflow" / "backups").exists()
    assert set(orphans) <= {d["name"] for d in client.list_taskdefs()}


# ---- tasks rollback NAME... --to REV -y -----------------------------------------------------------


def rollback_project(project, prefix, capsys):
    """r0..r2 at retry 1 in commit v1, retry 2 in commit v2; the server holds v2."""
    names = [prefix + f"r{i}" for i in range(3)]
    init_repo(project.root)
    shas = []
    for retries in (1, 2):
        for name in names:
            project.write_task(name, task_source(name, retry_count=retries))
        git(project.root, "add", "-A")
        git(project.root, "commit", "-q", "-m", f"retries {retries}")
        shas.append(git(project.root, "rev-parse", "HEAD"))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    return names, shas[0]


def server_retries(client, names):
    return [client.get_taskdef(n)["retryCount"] for n in names]


@pytest.mark.parametrize("fault", ALL)
def test_rollback(project, prefix, client, capsys, fault_proxy, fault):
    names, v1 = rollback_project(project, prefix, capsys)
    r0, r1, r2 = names
    configure(project, fault, batch_size=1)
    proxy = fault_proxy()
    if fault == "truncate":
        add_fault(proxy, fault, "GET", TASKDEFS)
    else:
        add_fault(proxy, fault, "POST", TASKDEFS, nth=2)
    argv = ("tasks", "rollback", *names, "--to", v1, "-y", "--json")
    result, elapsed = timed(capsys, "--server-url", proxy.url, *argv)
    proxy.stop()
    if fault in TRANSIENT:
        assert result.code == 0, result.err
        doc = result.json
        assert doc["updated"] == names and doc["failed"] == [] and doc["not_attempted"] == []
        assert proxy.count("POST", TASKDEFS) == 4
        expect_retry_was_honoured(fault, elapsed)
        assert server_retries(client, names) == [1, 1, 1]
        assert {parse_provenance(client.get_taskdef(n)["description"]).sha for n in names} == {v1}
        expected_rerun = []
    elif fault == "500":
        assert result.code == 1
        doc = result.json
        assert doc["updated"] == [r0] and [f["name"] for f in doc["failed"]] == [r1]
        assert doc["not_attempted"] == [r2] and proxy.count("POST", TASKDEFS) == 2
        assert server_retries(client, names) == [1, 2, 2]
        expected_rerun = [r1, r2]
    else:
        expect_error(result, "ServerError", "not valid JSON")
        assert writes(proxy) == []
        assert server_retries(client, names) == [2, 2, 2]
        expected_rerun = names
    first, second = converge(capsys, fault_proxy, *argv)
    assert first["updated"] == expected_rerun
    assert second["would_change"] == [] and second["updated"] == []
    assert server_retries(client, names) == [1, 1, 1]


def test_rollback_with_writes_left_undone_exits_1(project, prefix, client, capsys, fault_proxy):
    """The connection keeps breaking after the first batch: r1 lands (its answer is lost),
    r2 is never sent. Nothing failed outright, but the rollback is incomplete: exit 1."""
    names, v1 = rollback_project(project, prefix, capsys)
    configure(project, "reset", batch_size=1, max_retries=1)
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path=TASKDEFS, action="forward", times=1)
    proxy.add_rule(method="POST", path=TASKDEFS, action="reset")
    argv = ("tasks", "rollback", *names, "--to", v1, "-y", "--json")
    result = run_cli(capsys, "--server-url", proxy.url, *argv)
    assert result.json["updated"] == names[:2] and result.json["not_attempted"] == names[2:]
    assert result.code == 1, "a rollback that left definitions unwritten reported success"
    assert server_retries(client, names) == [1, 1, 2]
    first, _ = converge(capsys, fault_proxy, *argv)
    assert first["updated"] == names[2:]


# ---- bounded retries ------------------------------------------------------------------------------
def test_unavailable_forever_gives_up_after_max_retries_in_bounded_time(project, prefix, capsys, fault_proxy):
    project.write_task(prefix + "a", task_source(prefix + "a"))
    proxy = fault_proxy()
    proxy.add_rule(method="GET", path=TASKDEFS, action="status", status=503)
    result, elapsed = timed(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    expect_error(result, "ServerUnavailable", "503")
    from idflow.conductor.client import RetryPolicy

    policy = RetryPolicy()
    assert proxy.count("GET", TASKDEFS) == 1 + policy.max_retries
    worst_backoff = sum(min(policy.max_delay, policy.base_delay * 2 ** n) for n in range(policy.max_retries))
    assert elapsed < min(policy.total_budget, worst_backoff + 2.0), elapsed
    assert writes(proxy) == []


def test_max_retries_from_the_config_is_the_bound(project, prefix, capsys, fault_proxy):
    project.write_task(prefix + "a", task_source(prefix + "a"))
    configure(project, "drop", max_retries=2)
    proxy = fault_proxy()
    proxy.add_rule(method="GET", path=TASKDEFS, action="drop")
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    expect_error(result, "ConnectionFailed", "cannot talk to Conductor")
    assert proxy.count("GET", TASKDEFS) == 3


def test_a_huge_retry_after_is_capped(project, prefix, capsys, fault_proxy):
    """A server asking for an hour gets max_delay (4 s), once per retry."""
    configure(project, "429", max_retries=1)
    proxy = fault_proxy()
    proxy.add_rule(method="GET", path=TASKDEFS, action="status", status=429, headers={"Retry-After": "3600"})
    result, elapsed = timed(capsys, "--server-url", proxy.url, "tasks", "list", "--remote", "--json")
    expect_error(result, "ServerUnavailable", "429")
    assert proxy.count("GET", TASKDEFS) == 2 and 4.0 <= elapsed < 6.0, elapsed


def test_the_total_budget_stops_retries(fault_proxy):
    """Many retries allowed, a slow server: no retry starts after the budget."""
    from idflow.conductor.client import ConductorClient, RetryPolicy
    from idflow.base.errors import RequestTimeout

    proxy = fault_proxy()
    proxy.add_rule(method="GET", path=TASKDEFS, action="delay", delay=3.0)
    client = ConductorClient(proxy.url, timeout=0.3, retry=RetryPolicy(max_retries=50, total_budget=1.5))
    started = time.monotonic()
    with client, pytest.raises(RequestTimeout):
        client.list_taskdefs()
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 1.5 + 0.3 + 1.0, elapsed
    assert 2 <= proxy.count("GET", TASKDEFS) < 10


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_500_is_never_retried(project, prefix, client, capsys, fault_proxy, method):
    name = prefix + "a"
    project.write_task(name, task_source(name))
    proxy = fault_proxy()
    proxy.add_rule(method=method, path=TASKDEFS, action="status", status=500)
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    assert result.code == 1 and proxy.count(method, TASKDEFS) == 1
    assert name not in {d["name"] for d in client.list_taskdefs()}


def test_workflow_start_is_never_retried_on_reset(project, prefix, client, capsys, fault_proxy, conductor_url):
    """The start reaches the server and its answer is lost: retrying would run the workflow twice."""
    task, flow = prefix + "step", prefix + "flow"
    client.upsert_taskdefs([{"name": task, "timeoutSeconds": 60, "responseTimeoutSeconds": 30}])
    client.upsert_workflows([{"name": flow, "version": 1, "schemaVersion": 2,
                              "tasks": [{"name": task, "taskReferenceName": "s", "type": "SIMPLE"}]}])
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path="/api/workflow", action="reset")
    result = run_cli(capsys, "--server-url", proxy.url, "workflow", "run", flow, "--json")
    expect_error(result, "ConnectionFailed", "POST /workflow")
    assert proxy.count("POST", "/api/workflow") == 1
    with httpx.Client(base_url=conductor_url) as http:
        running = http.get(f"/workflow/running/{flow}", params={"version": 1}).json()
        assert len(running) == 1  # started exactly once
        for workflow_id in running:
            http.delete(f"/workflow/{workflow_id}", params={"reason": "test cleanup"})
            http.delete(f"/workflow/{workflow_id}/remove")
