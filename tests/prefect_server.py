"""A real `prefect server start` for end-to-end tests (deploy, worker), and the `prefect` CLI.

Import the fixture into a test module (`from tests.prefect_server import prefect_server`): one
server per module, on a free 127.0.0.1 port, PREFECT_HOME in a temp dir, analytics off.
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

from tests.faultproxy import free_port
from tests.prefect_fixtures import QUIET

PREFECT = [sys.executable, "-m", "prefect"]


def wait_healthy(api_url: str, server: subprocess.Popen, timeout: float = 90.0) -> None:
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
    yield from _server(ui=False)


@pytest.fixture(scope="module")
def prefect_server_ui():
    """The same, serving its UI at the API URL without `/api` (for the browser tests)."""
    yield from _server(ui=True)


def _server(ui: bool):
    home = Path(tempfile.mkdtemp(prefix="idflow-prefect-server-"))
    port = free_port()
    env = {**os.environ, **QUIET, "PREFECT_HOME": str(home), "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
           "PREFECT_SERVER_API_HOST": "127.0.0.1", "PREFECT_SERVER_API_PORT": str(port),
           "PREFECT_SERVER_UI_ENABLED": "true" if ui else "false"}
    log = open(home / "server.log", "wb")
    server = subprocess.Popen([*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(env["PREFECT_API_URL"], server)
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


def run_id(started: subprocess.CompletedProcess) -> str:
    """The flow run id `prefect deployment run` printed."""
    return next(line.split()[-1] for line in started.stdout.splitlines() if "UUID" in line)
