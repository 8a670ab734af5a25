"""End to end, as a user would: a real `prefect server start`, the process pool,
`prefect deploy` from prefect.yaml, a deployment run and a worker that runs it once.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from tests.clihelp import task_source
from tests.prefect_server import prefect, prefect_server  # noqa: F401  (a module-scoped fixture)

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.server]

REPO = Path(__file__).resolve().parent.parent


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
                          "idflow-upload/idflow-upload", "idflow-purge-orphaned/idflow-purge-orphaned",
                          "idflow-status/idflow-task-status")}
    assert "*/10 * * * *" in shown["idflow-status/idflow-task-status"]
    assert "0 * * * *" in shown["idflow-diff/idflow-drift-report"]
    sync = shown["idflow-sync/idflow-sync"]
    assert "*/15 * * * *" in sync and "'collision_strategy': 'ENQUEUE'" in sync and "'prune': False" in sync
    assert str(project.root) in sync  # set at deploy time: baked into the pull step
