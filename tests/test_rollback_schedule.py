"""`tasks rollback` and scheduled syncs (Argo CD's rule): refused while a sync deployment's schedule
is active for this environment, --pause-schedules pauses it and says how to resume, an unreachable
Prefect goes on only with --yes. Deployments are made with the Prefect client on the test server."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import uuid

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.clihelp import run_cli, task_source
from tests.faultproxy import free_port
from tests.gitrepo import git, init_repo

from idflow.project.schedules import applies_to, describe

pytestmark = [pytest.mark.prefect, pytest.mark.server]


@pytest.fixture
def rolled(project, prefix, capsys, client):
    """A task committed with retry_count 1, then 3, and uploaded at 3: (name, the first commit)."""
    init_repo(project.root)
    name = prefix + "rb"
    path = project.write_task(name, task_source(name, retry_count=1))
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "v1")
    v1 = git(project.root, "rev-parse", "HEAD")
    path.write_text(path.read_text().replace("retry_count=1", "retry_count=3"))
    git(project.root, "commit", "-q", "-am", "v2")
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    assert client.get_taskdef(name)["retryCount"] == 3
    return name, v1


@pytest.fixture
def prefect_api(prefect_harness, monkeypatch):
    from prefect.settings import PREFECT_API_URL

    url = PREFECT_API_URL.value()
    monkeypatch.setenv("PREFECT_API_URL", url)
    return url


@pytest.fixture
def deployment(prefect_api, prefect_client):
    """Factory: a deployment of `flow` with one cron schedule; each is deleted afterwards, so no
    other test's rollback meets it."""
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule

    made = []

    def make(flow="idflow-sync", parameters=None, active=True):
        flow_id = prefect_client.create_flow_from_name(flow)
        name = f"test-{uuid.uuid4().hex[:8]}"
        made.append(prefect_client.create_deployment(
            flow_id, name, parameters=parameters or {},
            schedules=[DeploymentScheduleCreate(schedule=CronSchedule(cron="*/15 * * * *"), active=active)]))
        return f"{flow}/{name}", made[-1]

    yield make
    for deployment_id in made:
        prefect_client.delete_deployment(deployment_id)


@pytest.mark.parametrize("parameters, expected", [
    ({}, True), ({"environment": None}, True), ({"environment": "prod"}, True),
    ({"environment": "staging"}, False),
])
def test_a_deployment_counts_unless_it_names_another_environment(parameters, expected):
    assert applies_to({"parameters": parameters}, "prod") is expected
    assert applies_to({"parameters": parameters}, None) is True  # ours unknown: it may write here


@pytest.mark.parametrize("schedule, text", [
    ({"cron": "*/15 * * * *", "timezone": "UTC"}, "cron */15 * * * * (UTC)"),
    ({"interval": 900.0}, "every 900.0 s"), ({"rrule": "FREQ=DAILY"}, "rrule FREQ=DAILY"),
])
def test_schedules_are_described_in_a_phrase(schedule, text):
    assert describe(schedule) == text


def in_environment(project, name):
    """Select an `environments:` entry of the project's config (issue 16's environments)."""
    project.config_path.write_text(project.config_path.read_text()
                                   + f"environments:\n  {name}:\n    batch_size: 50\ndefault_environment: {name}\n")


@pytest.mark.parametrize("parameters", [{}, {"environment": "here"}])
def test_an_active_sync_schedule_refuses_the_rollback_and_says_what_to_do(rolled, project, deployment, client,
                                                                           capsys, parameters):
    name, v1 = rolled
    in_environment(project, "here")
    sync, _ = deployment(parameters=parameters)
    refused = run_cli(capsys, "tasks", "rollback", name, "--to", v1, "-y", "--json")
    assert refused.code == 3
    assert sync in refused.err and "cron */15 * * * *" in refused.err
    assert "--pause-schedules" in refused.err and "revert the commit in Git" in refused.err
    assert client.get_taskdef(name)["retryCount"] == 3
    looked = run_cli(capsys, "tasks", "rollback", name, "--to", v1, "--dry-run", "--json")
    assert looked.code == 0 and looked.json["would_change"] == [name]  # a dry run changes nothing: not refused


@pytest.mark.parametrize("flow, parameters, active", [
    ("idflow-sync", {"environment": "somewhere-else"}, True),   # another environment's sync
    ("idflow-sync", {}, False),                                  # schedule paused
    ("idflow-upload", {}, True),                                 # not a sync
])
def test_schedules_that_cannot_undo_the_rollback_let_it_through(rolled, project, deployment, client, capsys, flow,
                                                                  parameters, active):
    name, v1 = rolled
    in_environment(project, "here")
    deployment(flow, parameters, active)
    done = run_cli(capsys, "tasks", "rollback", name, "--to", v1, "-y", "--json")
    assert done.code == 0, done.err
    assert done.json["schedules"]["checked"] is True and done.json["schedules"]["active"] == []
    assert client.get_taskdef(name)["retryCount"] == 1


def test_pause_schedules_pauses_them_rolls_back_and_prints_how_to_resume(rolled, deployment, prefect_api,
                                                                         prefect_client, client, capsys):
    name, v1 = rolled
    sync, deployment_id = deployment()
    done = run_cli(capsys, "tasks", "rollback", name, "--to", v1, "-y", "--pause-schedules", "--json")
    assert done.code == 0, done.err
    assert client.get_taskdef(name)["retryCount"] == 1
    assert [s.active for s in prefect_client.read_deployment_schedules(deployment_id)] == [False]
    paused = done.json["schedules"]["paused"]
    assert [p["deployment"] for p in paused] == [sync]
    resume = paused[0]["resume"]
    assert resume in done.err and resume.startswith(f"prefect deployment schedule resume '{sync}' ")
    # The printed command works as printed.
    assert shlex.split(resume)[0] == "prefect"
    subprocess.run([sys.executable, "-m", "prefect", *shlex.split(resume)[1:]], check=True, capture_output=True,
                   env={**os.environ, "PREFECT_API_URL": prefect_api}, timeout=120)
    assert [s.active for s in prefect_client.read_deployment_schedules(deployment_id)] == [True]


@pytest.mark.parametrize("yes", [False, True])
def test_an_unreachable_prefect_is_said_and_only_yes_goes_on(rolled, client, capsys, monkeypatch, yes):
    name, v1 = rolled
    monkeypatch.setenv("PREFECT_API_URL", f"http://127.0.0.1:{free_port()}/api")
    result = run_cli(capsys, "tasks", "rollback", name, "--to", v1, *(["-y"] if yes else []), "--json")
    assert "is not reachable" in result.err and "scheduled sync" in result.err
    if yes:
        assert result.code == 0 and result.json["schedules"]["checked"] is False
        assert client.get_taskdef(name)["retryCount"] == 1
    else:
        assert result.code == 3 and "--yes" in result.err
        assert client.get_taskdef(name)["retryCount"] == 3


@pytest.mark.parametrize("dirt", ["untracked_file", "modified_task"])
def test_a_protected_rollback_is_refused_before_anything_is_paused(rolled, project, deployment, prefect_client,
                                                                  client, capsys, conductor_url, dirt):
    name, v1 = rolled
    project.config_path.write_text(project.config_path.read_text() + "environments:\n  prod:\n"
                                   f"    conductor_server_url: {conductor_url}\n    protected: true\n")
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "prod is protected")
    if dirt == "untracked_file":
        (project.root / "scratch.txt").write_text("wip\n")
    else:
        path = project.tasks_dir / name / f"{name}.py"
        path.write_text(path.read_text() + "\n# wip\n")
    _, deployment_id = deployment()
    before = [(s.active, s.updated) for s in prefect_client.read_deployment_schedules(deployment_id)]
    refused = run_cli(capsys, "tasks", "rollback", name, "--to", v1, "-y", "--pause-schedules", "--json")
    assert refused.code == 3 and "protected" in refused.err
    # Never paused, not even for a moment (a pause and a resume would leave `updated` moved).
    assert [(s.active, s.updated) for s in prefect_client.read_deployment_schedules(deployment_id)] == before
    assert before[0][0] is True
    assert client.get_taskdef(name)["retryCount"] == 3


@pytest.mark.parametrize("fault", [{"action": "status", "status": 500}, {"action": "status", "status": 400}])
def test_a_rollback_that_fails_resumes_what_it_paused(rolled, project, deployment, prefect_client, client, capsys,
                                                      fault_proxy, fault):
    name, v1 = rolled
    _, deployment_id = deployment()
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path="/api/metadata/taskdefs", **fault)
    failed = run_cli(capsys, "--server-url", proxy.url, "tasks", "rollback", name, "--to", v1, "-y",
                     "--pause-schedules", "--json")
    assert failed.code != 0
    assert [s.active for s in prefect_client.read_deployment_schedules(deployment_id)] == [True]
    assert client.get_taskdef(name)["retryCount"] == 3
