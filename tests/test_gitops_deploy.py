"""GitOps end to end: a real `prefect server start`, the idflow-gitops-sync deployment from prefect.yaml
pulling with git_clone from a local bare repository, a worker; the Conductor server ends up holding
what was pushed to the branch, stamped with the pushed commit, whatever the worker's checkout holds."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from idflow.provenance.trailer import parse_provenance
from tests.clihelp import task_source
from tests.prefect_server import prefect, prefect_server, run_id  # noqa: F401  (a module-scoped fixture)
from tests.gitrepo import git, init_bare, init_repo

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.server]

REPO = Path(__file__).resolve().parent.parent


def commit_and_push(root, message, *refspec) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    git(root, "push", "-q", "origin", *(refspec or ("main",)))
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def pushed(project, prefix, tmp_path):
    """The project as a clone of a bare repository: config, one task (retry_count 1), flows/ and
    prefect.yaml committed on main. A branch `other` (retry_count 9) is the bare repository's
    default, so a clone that ignored the configured branch would get it."""
    remote = tmp_path / "remote.git"
    init_bare(remote)
    name = prefix + "gitops"
    path = project.write_task(name, task_source(name, retry_count=1))
    shutil.copy(REPO / "prefect.yaml", project.root / "prefect.yaml")
    shutil.copytree(REPO / "flows", project.root / "flows", ignore=shutil.ignore_patterns("__pycache__"))
    init_repo(project.root)
    git(project.root, "remote", "add", "origin", remote.as_uri())
    commit_and_push(project.root, "idflow project")
    git(project.root, "switch", "-q", "-c", "other")
    path.write_text(path.read_text().replace("retry_count=1", "retry_count=9"))
    commit_and_push(project.root, "elsewhere", "other")
    git(project.root, "switch", "-q", "main")
    git(remote, "symbolic-ref", "HEAD", "refs/heads/other")
    return project, name, path, remote


def test_gitops_sync_applies_the_pushed_commit_not_the_workers_checkout(prefect_server, pushed, client):
    project, name, path, remote = pushed
    timings = {}
    started = time.monotonic()
    env = {**prefect_server, "IDFLOW_GIT_REPOSITORY": remote.as_uri()}
    env.pop("IDFLOW_PROJECT_DIR", None)
    prefect(env, "work-pool", "create", "idflow-pool", "--type", "process", "--overwrite")
    prefect(env, "--no-prompt", "deploy", "--name", "idflow-gitops-sync", cwd=project.root)
    timings["deploy"] = time.monotonic() - started
    pull = inspect(env, "idflow-sync/idflow-gitops-sync")["pull_steps"]
    assert pull[0]["prefect.deployments.steps.git_clone"] == {"id": "clone", "repository": remote.as_uri(),
                                                             "branch": "main", "include_submodules": True}
    _pause_schedules(env["PREFECT_API_URL"])  # only our run below, never a scheduled one, reaches the worker

    path.write_text(path.read_text().replace("retry_count=1", "retry_count=5"))
    pushed_sha = commit_and_push(project.root, "five retries")
    path.write_text(path.read_text().replace("retry_count=5", "retry_count=7"))  # the worker's checkout: dirty

    mark = time.monotonic()
    flow_run = run_id(prefect(env, "deployment", "run", "idflow-sync/idflow-gitops-sync"))
    worker_env = {**env, "IDFLOW_PROJECT_DIR": str(project.root)}
    state = ""
    for _ in range(3):  # a run-once worker takes one run; a stray one would leave ours scheduled
        prefect(worker_env, "worker", "start", "--pool", "idflow-pool", "--run-once", "--limit", "1",
                cwd=project.root, timeout=150)
        state = prefect(env, "flow-run", "inspect", flow_run).stdout
        if "state_type=StateType.COMPLETED" in state or "state_type=StateType.FAILED" in state:
            break
    timings["run"] = time.monotonic() - mark
    assert "state_type=StateType.COMPLETED" in state, state[-2000:]

    held = client.get_taskdef(name)
    stamp = parse_provenance(held["description"])
    assert held["retryCount"] == 5
    assert (stamp.sha, stamp.dirty) == (pushed_sha, False)
    timings["total"] = time.monotonic() - started
    print("gitops timings (s):", json.dumps({k: round(v, 1) for k, v in timings.items()}))


def _pause_schedules(api_url):
    from idflow.project.schedules import active_sync_schedules, pause_schedules

    found = active_sync_schedules(api_url)
    assert [s.deployment for s in found] == ["idflow-sync/idflow-gitops-sync"]
    pause_schedules(api_url, found)
    assert active_sync_schedules(api_url) == []


def test_deploy_all_has_the_gitops_and_the_local_checkout_deployments(prefect_server, project):
    shutil.copy(REPO / "prefect.yaml", project.root / "prefect.yaml")
    shutil.copytree(REPO / "flows", project.root / "flows", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**prefect_server, "IDFLOW_PROJECT_DIR": str(project.root)}
    env.pop("IDFLOW_GIT_REPOSITORY", None)
    prefect(env, "work-pool", "create", "idflow-pool", "--type", "process", "--overwrite")
    prefect(env, "--no-prompt", "deploy", "--all", cwd=project.root)
    local = inspect(env, "idflow-sync/idflow-sync")["pull_steps"]
    assert [list(step) for step in local] == [["prefect.deployments.steps.set_working_directory"]]
    for name in ("idflow-sync/idflow-gitops-sync", "idflow-diff/idflow-gitops-drift-report"):
        clone, workdir = inspect(env, name)["pull_steps"]
        # left for the worker's environment to fill in
        assert clone["prefect.deployments.steps.git_clone"]["repository"] == "{{ $IDFLOW_GIT_REPOSITORY }}"
        assert workdir["prefect.deployments.steps.set_working_directory"] == {"directory": "{{ clone.directory }}"}


def inspect(env, name):
    return json.loads(prefect(env, "deployment", "inspect", name, "--output", "json").stdout)
