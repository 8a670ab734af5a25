"""`tasks status` when the server lacks an endpoint (the real server behind the fault proxy):
no search index, no queue endpoint, no all-types poll data. What it cannot know is n/a, said once,
never 0; what the other endpoints give is still shown."""
from __future__ import annotations


import pytest

from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server


@pytest.fixture
def scene(project, prefix, client, capsys):
    """One task, uploaded, polled once by a worker named `w1` (so the poll data has it)."""
    import httpx

    name = prefix + "watched"
    project.write_task(name, task_source(name))
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0
    httpx.get(f"{client.api_url}/tasks/poll/{name}", params={"workerid": "w1"}, timeout=30)
    return name


def status_through(project, proxy, capsys, name, *args):
    config = project.config_path.read_text()
    project.config_path.write_text(config.replace("conductor_server_url:", "conductor_server_url: " + proxy.url + " #"))
    try:
        table = run_cli(capsys, "tasks", "status", name, *args)
        doc = run_cli(capsys, "tasks", "status", name, "--json", *args)
    finally:
        project.config_path.write_text(config)
    assert table.code == 0 and doc.code == 0, (table.err, doc.err)
    return table.out, doc.json


@pytest.mark.parametrize("status", [404, 500])
def test_a_search_that_does_not_answer_leaves_the_execution_columns_empty_and_says_so_once(
        project, scene, fault_proxy, capsys, status):
    proxy = fault_proxy()
    proxy.add_rule("GET", "/api/tasks/search", "status", status=status, body={"message": "no index"})
    out, doc = status_through(project, proxy, capsys, scene)
    assert doc["search"] == "unavailable" and "does not answer" in doc["search_note"]
    [row] = doc["tasks"]
    assert [row[k] for k in ("in_progress", "completed", "failed", "failure_rate", "p50_ms", "p95_ms")] == [None] * 6
    assert row["queue"] == 0 and [p["worker_id"] for p in row["pollers"]] == ["w1"]  # the rest is still shown
    assert out.count("note:") == 1 and out.count("n/a") == 6
    assert proxy.count("GET", "/api/tasks/search") == 2  # one probe per command: no paging without an index


def test_without_a_queue_endpoint_the_queue_is_n_a(project, scene, fault_proxy, capsys):
    proxy = fault_proxy()
    proxy.add_rule("GET", "/api/tasks/queue/all", "status", status=404, body={"message": "not here"})
    out, doc = status_through(project, proxy, capsys, scene)
    assert doc["tasks"][0]["queue"] is None
    row = next(line for line in out.splitlines() if line.strip().startswith(scene))
    assert " n/a " in row and "unserved" not in row


def test_without_the_all_types_poll_data_it_asks_per_type_and_shows_the_same(project, scene, fault_proxy, capsys):
    _, direct = status_through(project, fault_proxy(), capsys, scene)
    proxy = fault_proxy()
    proxy.add_rule("GET", "/api/tasks/queue/polldata/all", "status", status=404, body={"message": "not here"})
    _, fallback = status_through(project, proxy, capsys, scene)
    assert [p["worker_id"] for p in fallback["tasks"][0]["pollers"]] == ["w1"]
    assert fallback["tasks"][0]["pollers"][0]["last_poll_ms"] == direct["tasks"][0]["pollers"][0]["last_poll_ms"]
    per_type = [r for r in proxy.requests if r.path.startswith("/api/tasks/queue/polldata") and "/all" not in r.path]
    assert len(per_type) == 2  # the one named type, once per command


def test_every_fetch_is_one_request_for_all_types(project, scene, fault_proxy, capsys):
    proxy = fault_proxy()
    _, doc = status_through(project, proxy, capsys, scene)
    json_requests = [r.path.split("?")[0] for r in proxy.requests][len(proxy.requests) // 2:]
    assert doc["requests"] == len(json_requests)
    assert sorted(set(json_requests)) == ["/api/metadata/taskdefs", "/api/metadata/workflow", "/api/tasks/queue/all",
                                          "/api/tasks/queue/polldata/all", "/api/tasks/search"]


def test_status_is_a_read_a_protected_environment_lets_through(project, conductor_url, capsys, monkeypatch):
    """--prefect refuses a protected environment's writes without --yes; status writes nothing, so it passes
    that check: it runs, or stops where Prefect is missing (exit 1), never refused (3)."""
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    project.config_path.write_text(project.config_path.read_text()
                                   + f"environments:\n  prod:\n    conductor_server_url: {conductor_url}\n"
                                     "    protected: true\n")
    assert run_cli(capsys, "--env", "prod", "tasks", "status", "--json").code == 0
    done = run_cli(capsys, "--env", "prod", "tasks", "status", "--prefect", "--json")
    # never refused (3): it runs the flow (on a temporary Prefect server), or stops where Prefect is missing
    assert done.code == 0 or (done.code == 1 and "Prefect" in done.json["error"]["message"]), done.out
