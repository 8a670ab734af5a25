"""Shared fixtures: the real Conductor server, a client, per-test name prefixes,
the fault proxy and a throw-away project directory.

Kept import-light: nothing here imports Prefect, and the server is only started by
tests that ask for it.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
import textwrap
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.clihelp import PROJECT_ENV

REPO_ROOT = Path(__file__).resolve().parent.parent
SERVER_SCRIPT = REPO_ROOT / "scripts" / "conductor-server.sh"


def _api_url(url: str) -> str:
    url = url.strip().rstrip("/")
    return url if url.endswith("/api") else url + "/api"


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(api_url[: -len("/api")] + "/health", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _script(command: str, timeout: float) -> tuple[int, str, str]:
    """Run scripts/conductor-server.sh; returns (exit code, stdout, stderr)."""
    env = {**os.environ, "CONDUCTOR_PORT": os.environ.get("CONDUCTOR_PORT", "8080")}
    # Files, not pipes: the server started in the background may inherit the script's
    # stdout, and reading a pipe to EOF would then wait for the server to exit.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        code = subprocess.run(["bash", str(SERVER_SCRIPT), command], env=env, stdin=subprocess.DEVNULL,
                              stdout=out, stderr=err, text=True, timeout=timeout).returncode
        out.seek(0)
        err.seek(0)
        return code, out.read(), err.read()


@pytest.fixture(scope="session")
def conductor_url() -> Iterator[str]:
    """The real server's API URL (…/api): CONDUCTOR_SERVER_URL if set, else one started
    with scripts/conductor-server.sh (and stopped at the end only if started here)."""
    given = os.environ.get("CONDUCTOR_SERVER_URL")
    if given:
        url = _api_url(given)
        if not _healthy(url):
            pytest.exit(f"CONDUCTOR_SERVER_URL={given} does not answer /health; start the server "
                        "(scripts/conductor-server.sh start) or unset CONDUCTOR_SERVER_URL", returncode=1)
        yield url
        return
    already_up = _script("status", timeout=30)[0] == 0
    code, out, err = _script("start", timeout=900)
    lines = out.strip().splitlines()
    if code != 0 or not lines:
        pytest.exit("scripts/conductor-server.sh start failed:\n" + err[-3000:], returncode=1)
    try:
        yield _api_url(lines[-1])
    finally:
        if not already_up:
            _script("stop", timeout=60)


@pytest.fixture
def client(conductor_url: str):
    from idflow.conductor.client import ConductorClient

    with ConductorClient(conductor_url) as c:
        yield c


@pytest.fixture
def prefix(conductor_url: str) -> Iterator[str]:
    """A unique name prefix; every task and workflow def named with it is deleted afterwards."""
    value = f"t{uuid.uuid4().hex[:8]}_"
    yield value
    from idflow.conductor.client import ConductorClient
    from idflow.base.errors import NotFound

    with ConductorClient(conductor_url) as c:
        for wf in c.list_workflows():
            if str(wf.get("name", "")).startswith(value):
                try:
                    c.delete_workflow(wf["name"], wf.get("version", 1))
                except NotFound:
                    pass
        for td in c.list_taskdefs():
            if str(td.get("name", "")).startswith(value):
                try:
                    c.delete_taskdef(td["name"])
                except NotFound:
                    pass


@pytest.fixture
def fault_proxy(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """Factory: fault_proxy(upstream_url=None) -> a started FaultProxy (upstream defaults to
    conductor_url); every proxy made is stopped at teardown."""
    from tests.faultproxy import FaultProxy

    made: list[FaultProxy] = []

    def make(upstream_url: str | None = None) -> FaultProxy:
        proxy = FaultProxy(upstream_url or request.getfixturevalue("conductor_url")).start()
        made.append(proxy)
        return proxy

    yield make
    for proxy in made:
        proxy.stop()


@dataclass
class Project:
    root: Path
    tasks_dir: Path
    workflows_dir: Path
    config_path: Path

    def write_task(self, name: str, source: str) -> Path:
        """Write idflow/tasks/<name>/__init__.py and <name>.py (source is dedented)."""
        folder = self.tasks_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").touch()
        path = folder / f"{name}.py"
        path.write_text(textwrap.dedent(source).lstrip("\n"), encoding="utf-8")
        return path


def make_project(root: Path, server_url: str, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A temp project at `root` (config/idflow.yml -> server_url, empty task and workflow dirs), made the cwd."""
    tasks_dir, workflows_dir = root / "idflow" / "tasks", root / "idflow" / "workflows"
    config_path = root / "config" / "idflow.yml"
    for folder in (tasks_dir, workflows_dir, config_path.parent):
        folder.mkdir(parents=True)
    # A project name of its own: purge --orphaned only ever touches this test's uploads.
    config_path.write_text(f"conductor_server_url: {server_url}\ntasks_dir: idflow/tasks\n"
                           f"workflows_dir: idflow/workflows\nproject: test-{uuid.uuid4().hex[:8]}\n",
                           encoding="utf-8")
    # The project's own file decides: CI exports CONDUCTOR_SERVER_URL, which would beat it.
    for name in PROJECT_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return Project(root, tasks_dir, workflows_dir, config_path)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Project:
    """A temp project whose config names the real server (its tests are marked `server`); in a test marked
    `local`, one whose config names no server (`local_project`), so the test needs no Conductor."""
    if request.node.get_closest_marker("local"):
        return make_project(tmp_path / "project", NO_SERVER_URL, monkeypatch)
    return make_project(tmp_path / "project", request.getfixturevalue("conductor_url"), monkeypatch)


# Nothing listens on the discard port: a request that was not meant to happen fails at once.
NO_SERVER_URL = "http://127.0.0.1:9/api"


@pytest.fixture
def local_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """`project` for tests that never reach a server: no Conductor is started or needed, and the test
    stays in the quick selection. A module of such tests overrides `project` with this one."""
    return make_project(tmp_path / "project", NO_SERVER_URL, monkeypatch)


# One Prefect test server for the whole session, shared by every flow test. (Imported into
# each test module instead, it would start one server per module, and Prefect's process-wide
# event worker would go on sending to the first.) Importing sets the Prefect environment only.
from tests.prefect_fixtures import prefect_client, prefect_harness  # noqa: E402,F401


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that reaches the real Conductor server (the `conductor_url` fixture, however deep, or a
    `project` in a test not marked `local`) is marked `server`, so `-m server` selects exactly those: a forgotten marker can no longer drop a file
    from the Conductor 3.21 step of .ci/run."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        needs = "conductor_url" in names or ("project" in names and not item.get_closest_marker("local"))
        if needs and not item.get_closest_marker("server"):
            item.add_marker(pytest.mark.server)
