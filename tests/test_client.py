"""ConductorClient against the real server, directly and through the fault proxy."""
from __future__ import annotations

import time
from typing import Any, Callable, Iterator

import pytest
from faultproxy import FaultProxy, free_port

from idflow.conductor.auth import HEADER, Auth
from idflow.conductor.client import ConductorClient, RetryPolicy
from idflow.base.errors import (AuthFailed, ConductorError, ConnectionFailed, NotFound, RequestTimeout, ServerError,
                           ServerUnavailable, ValidationFailed)

TASKDEFS = "/api/metadata/taskdefs"
API_KEY = "sk-idflowtest-4f1c9a7e0b2d4c6e8a1b3d5f7091a2b4"


def taskdef(name: str, **fields: Any) -> dict[str, Any]:
    return {"name": name, "timeoutSeconds": 60, "responseTimeoutSeconds": 30, "retryCount": 1, **fields}


def workflow(name: str, task: str, version: int = 1) -> dict[str, Any]:
    return {"name": name, "version": version, "schemaVersion": 2,
            "tasks": [{"name": task, "taskReferenceName": "step", "type": "SIMPLE"}]}


@pytest.fixture
def make_client() -> Iterator[Callable[..., ConductorClient]]:
    """make_client(url, retries=3, **kw): a client whose sleeps are recorded in `.sleeps`, not slept."""
    made: list[ConductorClient] = []

    def make(url: str, retries: int = 3, **kw: Any) -> ConductorClient:
        sleeps: list[float] = []
        kw.setdefault("sleep", sleeps.append)
        client = ConductorClient(url, retry=RetryPolicy(max_retries=retries), **kw)
        client.sleeps = sleeps  # type: ignore[attr-defined]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def proxy(fault_proxy: Callable[..., FaultProxy], conductor_url: str) -> FaultProxy:
    return fault_proxy(conductor_url)


# ---- the real server ------------------------------------------------------------------
@pytest.mark.server
def test_taskdef_round_trip(client: ConductorClient, prefix: str) -> None:
    name = prefix + "round_trip"
    client.upsert_taskdefs([taskdef(name, retryCount=2, description="first")])
    assert name in {t["name"] for t in client.list_taskdefs()}
    got = client.get_taskdef(name)
    assert (got["retryCount"], got["description"], got["timeoutSeconds"]) == (2, "first", 60)

    client.upsert_taskdefs([taskdef(name, retryCount=3, description="second")])
    assert client.get_taskdef(name)["retryCount"] == 3
    client.delete_taskdef(name)
    assert name not in {t["name"] for t in client.list_taskdefs()}
    with pytest.raises(NotFound):
        client.get_taskdef(name)
    assert client.stats.writes == 3 and client.stats.by_method["DELETE"] == 1


@pytest.mark.server
def test_missing_definitions_raise_not_found(client: ConductorClient, prefix: str) -> None:
    missing = prefix + "missing"
    with pytest.raises(NotFound) as got:
        client.get_taskdef(missing)
    assert got.value.status == 404 and missing in str(got.value)
    with pytest.raises(NotFound):
        client.delete_taskdef(missing)  # the server answers 500 "No such task definition"
    with pytest.raises(NotFound):
        client.get_workflow(missing)
    with pytest.raises(NotFound):
        client.delete_workflow(missing, 1)  # 500 "No such workflow definition"


@pytest.mark.server
def test_validation_failed_carries_the_servers_messages(client: ConductorClient, prefix: str) -> None:
    name = prefix + "invalid"
    with pytest.raises(ValidationFailed) as got:
        client.upsert_taskdefs([taskdef(name, timeoutSeconds=10, responseTimeoutSeconds=20)])
    assert got.value.status == 400
    assert any("responseTimeoutSeconds" in e and name in e for e in got.value.errors), got.value.errors
    with pytest.raises(NotFound):
        client.get_taskdef(name)


@pytest.mark.server
def test_workflow_round_trip(client: ConductorClient, prefix: str) -> None:
    task, name = prefix + "step", prefix + "flow"
    client.upsert_taskdefs([taskdef(task)])
    client.upsert_workflows([workflow(name, task, 1), workflow(name, task, 2)])
    versions = sorted(w["version"] for w in client.list_workflows() if w["name"] == name)
    assert versions == [1, 2]
    assert client.get_workflow(name)["version"] == 2
    got = client.get_workflow(name, version=1)
    assert got["version"] == 1 and [t["name"] for t in got["tasks"]] == [task]
    client.delete_workflow(name, 2)
    assert client.get_workflow(name)["version"] == 1


@pytest.mark.server
def test_health_and_version(client: ConductorClient) -> None:
    assert client.health()["healthy"] is True
    version = client.server_version()
    assert version is None or version[0].isdigit()


# ---- auth -------------------------------------------------------------------------------
@pytest.mark.server
def test_api_key_is_sent_and_never_shown(proxy: FaultProxy, make_client) -> None:
    client = make_client(proxy.url, auth=Auth(api_key=API_KEY))
    client.list_taskdefs()
    assert [r.headers.get(HEADER) for r in proxy.requests] == [API_KEY]
    assert API_KEY not in repr(client) and API_KEY not in repr(client.auth)


@pytest.mark.server
@pytest.mark.parametrize("status, error", [(400, ValidationFailed), (401, AuthFailed), (404, NotFound),
                                           (500, ServerError), (503, ServerUnavailable)])
def test_key_echoed_by_the_server_is_redacted(proxy: FaultProxy, make_client, status: int,
                                              error: type[ConductorError]) -> None:
    echoed = {"status": status, "message": f"rejected key {API_KEY} for this call",
              "validationErrors": [{"path": "x", "message": f"key {API_KEY} is not allowed"}]}
    proxy.add_rule("GET", TASKDEFS, "status", status=status, body=echoed)
    client = make_client(proxy.url, retries=0, auth=Auth(api_key=API_KEY))
    with pytest.raises(error) as got:
        client.list_taskdefs()
    assert API_KEY not in str(got.value) and API_KEY not in repr(got.value)
    if status != 401:
        assert "rejected key ***" in str(got.value)  # the message is kept, only the key is hidden
    if status == 400:
        assert got.value.errors == ["key *** is not allowed"]


@pytest.mark.server
@pytest.mark.parametrize("as_json", [True, False])
def test_key_cut_by_the_message_limit_is_still_redacted(proxy: FaultProxy, make_client, as_json: bool) -> None:
    text = "x" * 490 + API_KEY  # the 500-character limit falls inside the key
    body = {"message": text} if as_json else text
    proxy.add_rule("GET", TASKDEFS, "status", status=500, body=body)
    client = make_client(proxy.url, auth=Auth(api_key=API_KEY))
    with pytest.raises(ServerError) as got:
        client.list_taskdefs()
    assert API_KEY[:10] not in str(got.value)


@pytest.mark.server
def test_token_fetched_once_cached_refreshed_once_then_auth_failed(proxy: FaultProxy, make_client) -> None:
    secret = "orkes-secret-0c7d9e2f4a6b8c1d"
    proxy.add_rule("POST", "/api/token", "status", status=200, body={"token": "tok-1"}, times=1)
    proxy.add_rule("POST", "/api/token", "status", status=200, body={"token": "tok-2"}, times=1)
    proxy.add_rule("GET", TASKDEFS, "forward", times=2)   # the first two reads reach the server
    proxy.add_rule("GET", TASKDEFS, "status", status=401)  # then the token is refused
    client = make_client(proxy.url, auth=Auth(key_id="key-id-1", key_secret=secret))

    assert isinstance(client.list_taskdefs(), list)
    assert isinstance(client.list_taskdefs(), list)
    with pytest.raises(AuthFailed) as got:
        client.list_taskdefs()

    tokens = [r for r in proxy.requests if r.path == "/api/token"]
    assert [t.json() for t in tokens] == [{"keyId": "key-id-1", "keySecret": secret}] * 2
    reads = [r.headers.get(HEADER) for r in proxy.requests if r.path == TASKDEFS]
    assert reads == ["tok-1", "tok-1", "tok-1", "tok-2"]
    assert client.sleeps == []
    for shown in (str(got.value), repr(client), repr(client.auth)):
        assert secret not in shown and "tok-" not in shown


@pytest.mark.server
@pytest.mark.parametrize("status", [401, 403])
def test_auth_failures_are_never_retried(proxy: FaultProxy, make_client, status: int) -> None:
    proxy.add_rule("GET", TASKDEFS, "status", status=status)
    client = make_client(proxy.url, auth=Auth(api_key=API_KEY))
    with pytest.raises(AuthFailed) as got:
        client.list_taskdefs()
    assert got.value.status == status and got.value.exit_code == 1
    assert proxy.count("GET", TASKDEFS) == 1 and client.sleeps == []


# ---- retries ---------------------------------------------------------------------------------
@pytest.mark.server
@pytest.mark.parametrize("status", [429, 502, 503])
def test_unavailable_is_retried_then_succeeds(proxy: FaultProxy, make_client, client: ConductorClient,
                                              prefix: str, status: int) -> None:
    name = prefix + "retried"
    proxy.add_rule("POST", TASKDEFS, "status", status=status, times=2)
    flaky = make_client(proxy.url, retries=3)
    flaky.upsert_taskdefs([taskdef(name)])
    assert proxy.count("POST", TASKDEFS) == 3
    assert [r.json() for r in proxy.requests] == [[taskdef(name)]] * 3
    assert len(flaky.sleeps) == 2 and flaky.stats.retries == 2
    assert all(0 <= s <= flaky.retry.max_delay for s in flaky.sleeps)
    assert client.get_taskdef(name)["name"] == name


@pytest.mark.server
def test_retries_are_bounded(proxy: FaultProxy, make_client) -> None:
    proxy.add_rule("GET", TASKDEFS, "status", status=503)
    client = make_client(proxy.url, retries=2)
    with pytest.raises(ServerUnavailable) as got:
        client.list_taskdefs()
    assert got.value.status == 503
    assert proxy.count("GET", TASKDEFS) == 3 and len(client.sleeps) == 2


@pytest.mark.server
def test_retry_after_is_honoured(proxy: FaultProxy, make_client) -> None:
    proxy.add_rule("GET", TASKDEFS, "status", status=429, headers={"Retry-After": "3"}, times=1)
    proxy.add_rule("GET", TASKDEFS, "status", status=503, headers={"Retry-After": "1.5"}, times=1)
    client = make_client(proxy.url)
    assert isinstance(client.list_taskdefs(), list)
    assert client.sleeps == [3.0, 1.5]


@pytest.mark.server
def test_server_error_500_is_not_retried(proxy: FaultProxy, make_client) -> None:
    proxy.add_rule("GET", TASKDEFS, "status", status=500)
    client = make_client(proxy.url)
    with pytest.raises(ServerError) as got:
        client.list_taskdefs()
    assert got.value.status == 500
    assert proxy.count() == 1 and client.sleeps == []


@pytest.mark.server
def test_non_idempotent_start_is_not_retried_on_503(proxy: FaultProxy, make_client, prefix: str) -> None:
    proxy.add_rule("POST", "/api/workflow", "status", status=503)
    client = make_client(proxy.url)
    with pytest.raises(ServerUnavailable):
        client.start_workflow(prefix + "never", {})
    assert proxy.count("POST", "/api/workflow") == 1 and client.sleeps == []


@pytest.mark.server
def test_non_idempotent_start_is_retried_on_429(proxy: FaultProxy, make_client, prefix: str) -> None:
    proxy.add_rule("POST", "/api/workflow", "status", status=429, times=1)
    client = make_client(proxy.url)
    with pytest.raises(NotFound):  # the retry reached the server, which knows no such workflow
        client.start_workflow(prefix + "unknown", {})
    assert proxy.count("POST", "/api/workflow") == 2


# ---- timeouts and broken connections -----------------------------------------------------------
@pytest.mark.server
def test_timeout_on_get_is_retried_then_succeeds(proxy: FaultProxy, make_client) -> None:
    proxy.add_rule("GET", TASKDEFS, "delay", delay=2.0, times=2)
    client = make_client(proxy.url, retries=3, timeout=0.4)
    assert isinstance(client.list_taskdefs(), list)
    assert proxy.count("GET", TASKDEFS) == 3 and len(client.sleeps) == 2


@pytest.mark.server
def test_timeout_on_get_gives_request_timeout_when_retries_run_out(proxy: FaultProxy, make_client) -> None:
    proxy.add_rule("GET", TASKDEFS, "delay", delay=2.0)
    client = make_client(proxy.url, retries=1, timeout=0.4)
    with pytest.raises(RequestTimeout) as got:
        client.list_taskdefs()
    assert got.value.method == "GET" and proxy.count("GET", TASKDEFS) == 2


@pytest.mark.server
def test_timeout_on_start_workflow_is_not_retried(proxy: FaultProxy, make_client, prefix: str) -> None:
    proxy.add_rule("POST", "/api/workflow", "delay", delay=2.0)
    client = make_client(proxy.url, retries=3, timeout=0.4)
    with pytest.raises(RequestTimeout):
        client.start_workflow(prefix + "slow", {"x": 1})
    assert proxy.count("POST", "/api/workflow") == 1 and client.sleeps == []


def test_connection_refused_fails_fast_with_a_hint() -> None:
    with ConductorClient(f"http://127.0.0.1:{free_port()}/api") as client:  # real sleeps, default policy
        started = time.monotonic()
        with pytest.raises(ConnectionFailed) as got:
            client.list_taskdefs()
        elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    assert "scripts/conductor-server.sh" in str(got.value)
    assert client.stats.reads == client.retry.max_retries + 1


@pytest.mark.server
def test_dropped_connection_on_get_is_retried(proxy: FaultProxy, make_client) -> None:
    proxy.add_rule("GET", TASKDEFS, "drop", times=1)
    client = make_client(proxy.url)
    assert isinstance(client.list_taskdefs(), list)
    assert proxy.count("GET", TASKDEFS) == 2 and client.stats.retries == 1


@pytest.mark.server
def test_truncated_json_is_a_server_error(proxy: FaultProxy, make_client, client: ConductorClient,
                                          prefix: str) -> None:
    client.upsert_taskdefs([taskdef(prefix + "a"), taskdef(prefix + "b")])
    proxy.add_rule("GET", TASKDEFS, "truncate", keep=0.5)
    via = make_client(proxy.url)
    with pytest.raises(ServerError) as got:
        via.list_taskdefs()
    assert "not valid JSON" in str(got.value) and got.value.status == 200
    assert proxy.count("GET", TASKDEFS) == 1


@pytest.mark.server
def test_reset_mid_response_on_get_is_retried_and_succeeds(proxy: FaultProxy, make_client,
                                                           client: ConductorClient, prefix: str) -> None:
    name = prefix + "reset"
    client.upsert_taskdefs([taskdef(name, description="after a reset")])
    proxy.add_rule("GET", f"{TASKDEFS}/{name}", "reset", times=1)
    via = make_client(proxy.url)
    assert via.get_taskdef(name)["description"] == "after a reset"
    assert proxy.count("GET", f"{TASKDEFS}/{name}") == 2 and via.stats.retries == 1


@pytest.mark.server
def test_reset_on_start_workflow_is_not_retried(proxy: FaultProxy, make_client, prefix: str) -> None:
    proxy.add_rule("POST", "/api/workflow", "reset")
    client = make_client(proxy.url)
    with pytest.raises(ConnectionFailed):
        client.start_workflow(prefix + "unknown", {})
    assert proxy.count("POST", "/api/workflow") == 1


# ---- the proxy itself -------------------------------------------------------------------------
@pytest.mark.server
def test_proxy_nth_rule_and_clear(proxy: FaultProxy, make_client) -> None:
    proxy.add_rule("GET", TASKDEFS, "status", status=500, nth=2)
    client = make_client(proxy.url)
    client.list_taskdefs()
    with pytest.raises(ServerError):
        client.list_taskdefs()
    client.list_taskdefs()
    assert proxy.count("GET") == 3
    proxy.clear()
    assert proxy.requests == [] and proxy.count() == 0


@pytest.mark.server
def test_client_from_the_project_config(project, prefix: str) -> None:
    from idflow.conductor.client import client_from_config
    from idflow.project.config import load_config

    path = project.write_task(prefix + "hello", """
        from idflow import worker_task
        """)
    assert path == project.tasks_dir / f"{prefix}hello" / f"{prefix}hello.py"
    assert (path.parent / "__init__.py").exists() and path.read_text().startswith("from idflow")
    config = load_config()
    assert config.path == str(project.config_path.relative_to(project.root))
    with client_from_config(config) as client:
        assert isinstance(client.list_taskdefs(), list)
