"""No secret leaks, and TLS is verified unless --insecure says otherwise.

A recognisable API key is set in the variable the config names, and every command runs
through a recording proxy, plainly, with --json and with -v, on the happy path and on
failing ones (401, an unreachable server, the server echoing the key in a 400, a bug).
The key must appear in no stdout, no stderr and no file under the project (backups, plans,
caches); the proxy proves the X-Authorization header carried it, so none of this is vacuous.
"""
from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import uuid

import httpx
import pytest

from tests.clihelp import run_cli, task_source
from tests.faultproxy import free_port, self_signed_tls
from tests.gitrepo import git, init_repo

pytestmark = pytest.mark.server

KEY_VAR = "IDFLOW_TEST_API_KEY"
HEADER = "X-Authorization"
VARIANTS = ((), ("--json",), ("-v",))


class Watch:
    """Runs commands and checks each output; remembers the workflows it started."""

    def __init__(self, key: str, proxy, project, capsys) -> None:
        self.key, self.proxy, self.project, self.capsys = key, proxy, project, capsys
        self.runs = 0

    def run(self, *argv: str, server: bool = True, codes=(0,), variants=VARIANTS):
        for variant in variants:
            before = len(self.proxy.requests)
            result = run_cli(self.capsys, *variant, *argv)
            self.runs += 1
            where = " ".join((*variant, *argv))
            assert result.code in codes, (where, result.code, result.out[-500:], result.err[-1500:])
            assert self.key not in result.out and self.key not in result.err, f"key shown by: {where}"
            if "--json" in variant:
                result.json  # exactly one JSON document
            sent = self.proxy.requests[before:]
            if server:
                assert sent, f"{where} sent nothing: the check would be vacuous"
                assert all(r.headers.get(HEADER) == self.key for r in sent), where
            else:
                assert sent == [], where
        return result

    def files_clean(self) -> int:
        """Every file under the project (and the test's temp dir) is free of the key."""
        files = [p for p in self.project.root.parent.rglob("*") if p.is_file()]
        leaked = [str(p) for p in files if self.key.encode() in p.read_bytes()]
        assert leaked == []
        return len(files)


@pytest.fixture
def key(monkeypatch) -> str:
    value = f"sk-idflow-SECRET-{uuid.uuid4().hex}"
    monkeypatch.setenv(KEY_VAR, value)
    for name in ("CONDUCTOR_AUTH_KEY", "CONDUCTOR_AUTH_SECRET", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    return value


@pytest.fixture
def secret_project(project, prefix, key, fault_proxy, capsys, conductor_url):
    """A Git project whose config points at a recording proxy and names KEY_VAR; two tasks
    (a, b), a workflow using a, commits v1 (b: 1 retry) and v2 (b: 2 retries)."""
    proxy = fault_proxy(conductor_url)
    text = project.config_path.read_text().replace(conductor_url, proxy.url)
    project.config_path.write_text(text + f"conductor_api_key_env_var: {KEY_VAR}\n")
    a, b, flow = prefix + "a", prefix + "b", prefix + "flow"
    project.write_task(a, task_source(a))
    project.write_task(b, task_source(b, retry_count=1))
    (project.workflows_dir / "flow.json").write_text(
        f'{{"name": "{flow}", "version": 1, "schemaVersion": 2, '
        f'"tasks": [{{"name": "{a}", "taskReferenceName": "a", "type": "SIMPLE"}}]}}')
    init_repo(project.root)
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "v1")
    v1 = git(project.root, "rev-parse", "HEAD")
    project.write_task(b, task_source(b, retry_count=2))
    git(project.root, "commit", "-q", "-am", "v2")
    watch = Watch(key, proxy, project, capsys)
    yield watch, (a, b, flow, v1)
    with httpx.Client(base_url=conductor_url) as http:  # the runs `workflow run` started
        for workflow_id in http.get(f"/workflow/running/{flow}", params={"version": 1}).json():
            http.delete(f"/workflow/{workflow_id}", params={"reason": "test cleanup"})
            http.delete(f"/workflow/{workflow_id}/remove")


def test_every_command_keeps_the_key_to_the_header(secret_project, prefix, client):
    watch, (a, b, flow, v1) = secret_project
    project = watch.project
    watch.run("doctor")
    watch.run("tasks", "new", prefix + "scaffolded", server=False, variants=[()])
    watch.run("tasks", "new", prefix + "scaffolded", server=False, codes=(3,))  # exists: refused
    watch.run("tasks", "list", "--local", server=False)
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "scaffolded")  # committed work: its orphan can be proven later
    watch.run("tasks", "diff", "--out", "plan.json", codes=(4,))
    watch.run("tasks", "upload", "--all")
    watch.run("tasks", "list", "--remote")
    watch.run("tasks", "list", "--sync")
    watch.run("tasks", "status")
    project.write_task(b, task_source(b, retry_count=3))
    watch.run("tasks", "diff", "--out", "plan.json", codes=(4,), variants=[()])
    watch.run("tasks", "apply", "plan.json", variants=[("-v",)])  # writes a backup first
    watch.run("tasks", "apply", "plan.json", codes=(0, 3), variants=[(), ("--json",)])
    watch.run("tasks", "history", b)
    watch.run("tasks", "rollback", b, "--to", v1, "-y")
    assert client.get_taskdef(b)["retryCount"] == 1  # the commands really ran: rolled back to v1
    watch.run("tasks", "backup")
    watch.run("tasks", "backup", "--out", "snapshot.json", variants=[()])
    watch.run("tasks", "backups", server=False)
    watch.run("tasks", "restore", "snapshot.json", "-y")
    watch.run("tasks", "upload", "--all", variants=[()])
    shutil.rmtree(project.tasks_dir / (prefix + "scaffolded"))  # now an orphan on the server, once committed
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "drop scaffolded")
    watch.run("tasks", "purge", "--orphaned", "-y")
    watch.run("tasks", "sync", "--prune", "-y")
    watch.run("workflows", "list", "--local", server=False)
    watch.run("workflows", "list", "--remote")
    watch.run("workflows", "upload", "--all")
    watch.run("workflows", "list", "--sync")
    watch.run("workflow", "run", flow, "--input", '{"x": 1}')
    project.write_task(prefix + "broken", task_source(prefix + "broken").replace(
        "from idflow import worker_task", "import idflow_no_such_module\nfrom idflow import worker_task"))
    watch.run("worker", "start", prefix + "broken", server=False, codes=(1,))
    assert client.get_taskdef(b)["retryCount"] == 3 and prefix + "scaffolded" not in {
        d["name"] for d in client.list_taskdefs()}  # synced back to the working tree, orphan purged
    assert (project.root / ".idflow" / "backups").is_dir() and (project.root / "plan.json").is_file()
    assert watch.files_clean() > 10 and watch.runs >= 60


def test_failing_paths_keep_the_key_out_too(secret_project, prefix, client, conductor_url, tmp_path):
    watch, (a, b, flow, v1) = secret_project
    project, key = watch.project, watch.key
    echo = {"status": 401, "message": f"key {key} is not valid here", "error": key}
    watch.proxy.add_rule(path="/", action="status", status=401, body=echo, times=None)
    for argv in (("doctor",), ("tasks", "list", "--remote"), ("tasks", "upload", "--all"),
                 ("tasks", "purge", "--orphaned", "-y"), ("tasks", "history", a), ("tasks", "backup"),
                 ("workflows", "upload", "--all"), ("workflow", "run", flow), ("tasks", "status")):
        watch.run(*argv, codes=(1,))
    watch.proxy.clear()

    # The server rejects a write and quotes the key in its error (message and validationErrors).
    assert watch.run("tasks", "upload", "--all", variants=[()]).code == 0
    project.write_task(b, task_source(b, retry_count=4))
    rejected = {"status": 400, "message": f"bad request from {key}",
                "validationErrors": [{"path": "x", "message": f"{key} is not allowed"}]}
    watch.proxy.add_rule(method="POST", path="/api/metadata/taskdefs", action="status", status=400, body=rejected)
    watch.proxy.add_rule(method="PUT", path="/api/metadata/workflow", action="status", status=400, body=rejected)
    upload = watch.run("tasks", "upload", "--all", codes=(1,), variants=[("--json",)])
    assert upload.json["failed"][0]["errors"] == ["*** is not allowed"]  # kept, only the key hidden
    watch.run("tasks", "upload", "--all", codes=(1,), variants=[(), ("-v",)])
    watch.run("tasks", "rollback", b, "--to", v1, "-y", codes=(1,))
    watch.run("workflows", "upload", "--all", codes=(1,))
    watch.proxy.clear()

    # Nobody answers: fail fast (no retries configured), say so, and show no key.
    unreachable = tmp_path / "unreachable.yml"
    unreachable.write_text(f"conductor_server_url: http://127.0.0.1:{free_port()}/api\n"
                           f"conductor_api_key_env_var: {KEY_VAR}\nmax_retries: 0\n")
    for argv in (("doctor",), ("tasks", "list", "--remote"), ("tasks", "upload", "--all"), ("workflow", "run", flow)):
        watch.run("--config", str(unreachable), *argv, server=False, codes=(1,))
    assert watch.files_clean() > 5


def test_a_bug_that_quotes_the_header_is_redacted(secret_project, monkeypatch):
    """An unexpected exception (here: a library quoting the header, as h11 does for an illegal
    value) gives one JSON error and, with -v, a traceback -- without the key."""
    watch, _ = secret_project
    real_send = httpx.Client.send

    def quoting_send(self, request, **kw):
        if HEADER in request.headers:  # only idflow's own requests; fixtures pass through
            raise RuntimeError(f"cannot send header {request.headers.get(HEADER)!r}")
        return real_send(self, request, **kw)

    def quoting_request(self, method, url, *, headers=None, **kw):  # the standard-library client of plain http
        if HEADER in (headers or {}):
            raise RuntimeError(f"cannot send header {headers[HEADER]!r}")
        return real_request(self, method, url, headers=headers, **kw)

    from idflow.conductor.plain_http import PlainClient

    real_request = PlainClient.request
    monkeypatch.setattr(httpx.Client, "send", quoting_send)
    monkeypatch.setattr(PlainClient, "request", quoting_request)
    before = len(watch.proxy.requests)
    for variant in VARIANTS:
        result = run_cli(watch.capsys, *variant, "tasks", "list", "--remote")
        assert result.code == 1 and "internal error: RuntimeError" in result.err
        assert watch.key not in result.out + result.err and "***" in result.err
        assert ("Traceback" in result.err) == ("-v" in variant)
        if variant == ("--json",):
            assert result.json["error"]["type"] == "InternalError"
    assert len(watch.proxy.requests) == before  # the key only ever reached the (patched) send


@pytest.mark.parametrize("suffix, works", [("\r\n", True), ("  ", True), ("\rinjected: 1", False),
                                           ("\u00e9", False)])
def test_a_key_with_stray_characters(secret_project, monkeypatch, suffix, works):
    """Whitespace around the key is dropped; characters HTTP forbids are an error that does
    not quote the key (httpx's own message would)."""
    watch, _ = secret_project
    monkeypatch.setenv(KEY_VAR, watch.key + suffix)
    for variant in VARIANTS:
        result = run_cli(watch.capsys, *variant, "tasks", "list", "--remote")
        assert watch.key not in result.out + result.err
        if works:
            assert result.code == 0 and watch.proxy.requests[-1].headers.get(HEADER) == watch.key
        else:
            assert result.code == 1 and "internal error" not in result.err
            assert "header value has characters HTTP does not allow" in " ".join(result.err.split())


def test_the_installed_command_prints_no_key(secret_project):
    """The real entry point, as a user runs it: -v and a key HTTP cannot carry."""
    watch, _ = secret_project
    env = {**os.environ, KEY_VAR: watch.key + "\rx"}
    ran = subprocess.run([sys.executable, "-m", "idflow.cli", "-v", "tasks", "list", "--remote"],
                         cwd=watch.project.root, env=env, capture_output=True, text=True, timeout=60)
    assert ran.returncode == 1 and "Traceback" in ran.stderr  # -v: the traceback is there ...
    assert watch.key not in ran.stdout + ran.stderr  # ... without the key


# ---- TLS ----------------------------------------------------------------------------------------------
def ssl_context(client):
    return client._http._transport._pool._ssl_context  # httpx keeps it on the pool


def test_tls_is_verified_by_default_and_insecure_only_when_asked(project):
    from idflow.cli.state import CliState

    tls = "https://conductor.invalid/api"  # a plain-http URL loads no certificates: TLS is never used
    default, insecure = CliState(server_url=tls), CliState(server_url=tls, insecure=True)
    assert default.config().verify_tls is True and insecure.config().verify_tls is False
    assert ssl_context(default.client()).verify_mode == ssl.CERT_REQUIRED
    assert ssl_context(default.client()).check_hostname is True
    assert ssl_context(insecure.client()).verify_mode == ssl.CERT_NONE
    project.config_path.write_text(project.config_path.read_text() + "verify_tls: false\n")
    assert CliState().config().verify_tls is False  # the file may opt out; no flag turns it back on
    project.config_path.write_text(project.config_path.read_text().replace("false", "true"))
    assert CliState().config().verify_tls is True and CliState(insecure=True).config().verify_tls is False
    for state in (default, insecure):
        state.close()


def test_an_untrusted_certificate_is_refused_before_the_key_is_sent(project, key, tmp_path, capsys,
                                                                   conductor_url, monkeypatch):
    from tests.faultproxy import FaultProxy

    project.config_path.write_text(project.config_path.read_text() + f"conductor_api_key_env_var: {KEY_VAR}\n")
    context, ca_file = self_signed_tls(tmp_path)
    with FaultProxy(conductor_url, tls=context) as proxy:
        refused = run_cli(capsys, "--server-url", proxy.url, "tasks", "list", "--remote", "--json")
        assert refused.code == 1 and refused.json["error"]["type"] == "ConductorError"
        assert "certificate is not trusted" in refused.json["error"]["message"]
        assert "--insecure" in refused.json["error"]["hint"]
        assert proxy.count() == 0  # no request, so no key, went over the untrusted connection
        accepted = run_cli(capsys, "--insecure", "--server-url", proxy.url, "tasks", "list", "--remote", "--json")
        assert accepted.code == 0 and isinstance(accepted.json["remote"], list)
        # the definitions and the workflows (for usage counts): each request carries the key, over TLS only
        assert proxy.requests and {r.headers.get(HEADER) for r in proxy.requests} == {key}
        monkeypatch.setenv("SSL_CERT_FILE", ca_file)  # trusting its CA works without --insecure
        trusted = run_cli(capsys, "--server-url", proxy.url, "tasks", "list", "--remote", "--json")
        assert trusted.code == 0 and proxy.count() == 4  # two GETs per listing
        assert key not in refused.out + refused.err + accepted.out + accepted.err


@pytest.mark.parametrize("insecure", [False, True])
def test_https_to_a_plain_http_port_fails_clearly_and_never_downgrades(project, key, capsys, fault_proxy,
                                                                       insecure):
    plain = fault_proxy()
    url = plain.url.replace("http://", "https://")
    result = run_cli(capsys, *(["--insecure"] if insecure else []), "--server-url", url, "tasks", "list",
                     "--remote", "--json")
    assert result.code == 1
    error = result.json["error"]
    assert "no TLS handshake" in error["message"] and "http://" in error["hint"]
    assert plain.count() == 0  # not one plain-HTTP request: nothing was downgraded


def test_credentials_in_the_server_url_stay_out_of_messages_and_plans():
    from idflow.conductor.client import ConductorClient, RetryPolicy
    from idflow.project.config import load_config
    from idflow.base.errors import ConductorError

    config = load_config(overrides={"conductor_server_url": "http://alice:s3cr3t-pw@127.0.0.1:9/api"}, environ={})
    assert "s3cr3t-pw" not in config.safe_api_url and config.safe_api_url == "http://127.0.0.1:9/api"
    client = ConductorClient(config.api_url, retry=RetryPolicy(max_retries=0))
    assert "s3cr3t-pw" not in repr(client)
    try:
        client.list_taskdefs()
    except ConductorError as exc:
        assert "s3cr3t-pw" not in str(exc)
    else:  # pragma: no cover - nothing listens on port 9
        raise AssertionError("expected a connection failure")
