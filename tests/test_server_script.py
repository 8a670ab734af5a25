"""scripts/conductor-server.sh: the cheap paths (no server is started here)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from faultproxy import free_port

SERVER_SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "conductor-server.sh"


def run(*args: str, port: int, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CONDUCTOR_PORT": str(port), "CONDUCTOR_STATE_DIR": str(tmp_path / "state")}
    return subprocess.run(["bash", str(SERVER_SCRIPT), *args], env=env, capture_output=True, text=True, timeout=60)


def test_usage_error(tmp_path) -> None:
    result = run("restart", port=free_port(), tmp_path=tmp_path)
    assert result.returncode == 2 and "usage" in result.stderr


def test_status_and_stop_when_nothing_runs(tmp_path) -> None:
    port = free_port()
    status = run("status", port=port, tmp_path=tmp_path)
    assert status.returncode == 1 and f"not answering on port {port}" in status.stderr
    assert status.stdout == ""
    stop = run("stop", port=port, tmp_path=tmp_path)
    assert stop.returncode == 0 and "not running" in stop.stderr


@pytest.mark.server
def test_status_prints_the_url_of_a_running_server(conductor_url: str, tmp_path) -> None:
    port = urlsplit(conductor_url).port
    result = run("status", port=port, tmp_path=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip().splitlines()[-1] == f"http://127.0.0.1:{port}/api"
