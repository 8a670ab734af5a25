"""End to end, as a user would: a real `prefect server start`, the process pool,
`prefect deploy` from prefect.yaml, a deployment run and a worker that runs it once.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.clihelp import task_source
from tests.faultproxy import free_port
from tests.prefect_fixtures import QUIET

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.server]

REPO = Path(__file__).resolve().parent.parent
PREFECT = [sys.executable, "-m", "prefect"]


def _wait_healthy(api_url: str, server: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"prefect server exited with {server.returncode}")
        try:
            with urllib.request.urlopen(api_url + "/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"prefect server at {api_url} did not become healthy in {timeout:.0f}s")


@pytest.fixture(scope="module")
def prefect_server():
    """A real Prefect server on a free 127.0.0.1 port, PREFECT_HOME in a temp dir; yields its environment."""
    home = Path(tempfile.mkdtemp(prefix="idflow-prefect-server-"))
    port = free_port()
    env = {**os.environ, **QUIET, "PREFECT_HOME": str(home), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port)}
    log = open(home / "server.log", "wb")
    server = subprocess.Popen([*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        _wait_healthy(env["PREFECT_API_URL"], server)
        yield env
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def prefect(env, *args, cwd=None, timeout=120) -> subprocess.CompletedProcess:
    done = subprocess.run([*PREFECT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def test_deploy_run_and_worker_upload_to_conductor(prefect_server, project, prefix, client):
    a, b = prefix + "deployed_a", prefix + "deployed_b"
    project.write_task(a, task_source(a, retry_count=3))
    project.write_task(b, task_source(b))
    shutil.copy(REPO / "prefect.yaml", project.root / "prefect.yaml")
    shutil.copytree(REPO / "flows", project.root / "flows", ignore=shutil.ignore_patterns("__pycache__"))
    env = dict(prefect_server)
    env.pop("IDFLOW_PROJECT_DIR", None)

    prefect(env, "work-pool", "create", "idflow-pool", "--type", "process")
    deployed = prefect(env, "--no-prompt", "deploy", "--name", "idflow-upload", cwd=project.root)
    assert "idflow-upload/idflow-upload" in deployed.stdout
    shown = prefect(env, "deployment", "inspect", "idflow-upload/idflow-upload")
    assert "{{ $IDFLOW_PROJECT_DIR }}" in shown.stdout  # left for the worker to fill in
    run = prefect(env, "deployment", "run", "idflow-upload/idflow-upload", cwd=project.root)
    run_id = next(line.split()[-1] for line in run.stdout.splitlines() if "UUID" in line)
    # The worker starts elsewhere on purpose: the pull step must move the run into the project.
    worker_env = {**env, "IDFLOW_PROJECT_DIR": str(project.root)}
    prefect(worker_env, "worker", "start", "--pool", "idflow-pool", "--run-once", "--limit", "1",
            cwd=tempfile.gettempdir(), timeout=150)

    state = prefect(env, "flow-run", "inspect", run_id)
    assert "state_type=StateType.COMPLETED" in state.stdout, state.stdout[-2000:]
    assert "name='upload all tasks'" in state.stdout
    server = {d["name"]: d for d in client.list_taskdefs()}
    assert server[a]["retryCount"] == 3 and b in server


def test_deploy_all_creates_the_four_deployments(prefect_server, project):
    shutil.copy(REPO / "prefect.yaml", project.root / "prefect.yaml")
    shutil.copytree(REPO / "flows", project.root / "flows", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**prefect_server, "IDFLOW_PROJECT_DIR": str(project.root)}
    prefect(env, "--no-prompt", "deploy", "--all", cwd=project.root)
    shown = {name: prefect(env, "deployment", "inspect", name).stdout  # fails if missing
             for name in ("idflow-diff/idflow-drift-report", "idflow-sync/idflow-sync",
                          "idflow-upload/idflow-upload", "idflow-purge-orphaned/idflow-purge-orphaned")}
    assert "0 * * * *" in shown["idflow-diff/idflow-drift-report"]
    sync = shown["idflow-sync/idflow-sync"]
    assert "*/15 * * * *" in sync and "'collision_strategy': 'ENQUEUE'" in sync and "'prune': False" in sync
    assert str(project.root) in sync  # set at deploy time: baked into the pull step
