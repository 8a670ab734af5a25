"""The pull policy end to end (issue 25): a real `prefect server start`, the idflow-gitops-pull-edits
deployment from prefect.yaml cloning a local bare repository, a worker. A definition edited on the server
comes back as a branch of the bare repository with exactly that keyword changed; the deployed branch and
the server's copy stay as they were; the run's artifact names the branch and the edit."""
from __future__ import annotations

import pytest

from tests.clihelp import run_cli
from tests.prefect_server import prefect, prefect_server, run_id  # noqa: F401  (a module-scoped fixture)
from tests.test_gitops_deploy import git, inspect, pushed  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.prefect, pytest.mark.slow, pytest.mark.server]
DEPLOYMENT = "idflow-sync/idflow-gitops-pull-edits"


def test_a_server_edit_comes_back_as_a_branch_of_the_repository(prefect_server, pushed, client, capsys):
    project, name, path, remote = pushed
    deployed = git(remote, "rev-parse", "main")
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0     # the base: retry_count 1
    copy = client.get_taskdef(name)
    copy["retryCount"] = 4
    client.upsert_taskdefs([copy])

    env = {**prefect_server, "IDFLOW_GIT_REPOSITORY": remote.as_uri()}
    env.pop("IDFLOW_PROJECT_DIR", None)
    prefect(env, "work-pool", "create", "idflow-pool", "--type", "process", "--overwrite")
    prefect(env, "--no-prompt", "deploy", "--name", "idflow-gitops-pull-edits", cwd=project.root)
    found = inspect(env, DEPLOYMENT)
    assert found["parameters"]["server_edits"] == "pull"
    assert list(found["pull_steps"][0]) == ["prefect.deployments.steps.git_clone"]
    assert [s["active"] for s in found["schedules"]] == [False]     # nothing runs but the run below

    flow_run = run_id(prefect(env, "deployment", "run", DEPLOYMENT))
    state = ""
    for _ in range(3):  # a run-once worker takes one run; a stray one would leave ours scheduled
        prefect(env, "worker", "start", "--pool", "idflow-pool", "--run-once", "--limit", "1",
                cwd=project.root, timeout=150)
        state = prefect(env, "flow-run", "inspect", flow_run).stdout
        if "state_type=StateType.COMPLETED" in state or "state_type=StateType.FAILED" in state:
            break
    assert "state_type=StateType.COMPLETED" in state, state[-2000:]

    branch = "idflow/server-edits/default"
    assert git(remote, "rev-parse", "main") == deployed                       # the deployed branch untouched
    assert git(remote, "rev-parse", f"{branch}^") == deployed
    diff = git(remote, "diff", "-U0", "main", branch)
    changed = [l for l in diff.splitlines() if l[:1] in "+-" and l[:3] not in ("+++", "---")]
    decorator = f"@worker_task(task_definition_name={name!r}, retry_count="
    assert changed == [f"-{decorator}1)", f"+{decorator}4)"], diff
    assert client.get_taskdef(name)["retryCount"] == 4                        # left as the server has it
    artifact = prefect(env, "artifact", "inspect", "idflow-server-edits").stdout
    assert branch in artifact and name in artifact and "retry_count" in artifact
