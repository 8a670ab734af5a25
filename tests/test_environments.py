"""Environments (issue 16): `--env` / IDFLOW_ENV select a server, doctor says which and why,
protected environments refuse writes without --yes and a clean tree.

One environment is the real server, the other a closed port.
"""
from __future__ import annotations

import json

import pytest

from tests.clihelp import run_cli, task_source
from tests.faultproxy import free_port
from tests.gitrepo import git, init_repo


@pytest.fixture
def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/api"


@pytest.fixture
def envs(project, conductor_url, dead_url, monkeypatch):
    """The project's config with `live` (the real server), `dead` (a closed port) and a protected `prod`
    (the real server); the top-level URL is the dead one, so only a selected entry reaches the server."""
    monkeypatch.delenv("IDFLOW_ENV", raising=False)
    text = project.config_path.read_text().replace(f"conductor_server_url: {conductor_url}",
                                                   f"conductor_server_url: {dead_url}")
    text += (f"environments:\n  live:\n    conductor_server_url: {conductor_url}\n"
             f"  dead:\n    conductor_server_url: {dead_url}\n"
             f"  prod:\n    conductor_server_url: {conductor_url}\n    protected: true\n")
    project.config_path.write_text(text)
    init_repo(project.root)
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "init")
    return project


@pytest.mark.parametrize("name, answers", [("live", True), ("dead", False)])
def test_env_selects_the_server_and_doctor_says_so(envs, capsys, conductor_url, dead_url, name, answers):
    url = {"live": conductor_url, "dead": dead_url}[name]
    doctor = run_cli(capsys, "--env", name, "doctor", "--json")
    assert doctor.code == (0 if answers else 1)
    assert doctor.json["environment"]["name"] == name and doctor.json["environment"]["selected_by"] == "--env"
    assert doctor.json["server_url"] == {"url": url, "source": "environment entry", "answers": answers,
                                         "origin": f"environment entry {name} (file config/idflow.yml)",
                                         "ignored": None}
    diff = run_cli(capsys, "--env", name, "tasks", "diff", "--json")
    if answers:  # the command used the very server doctor named
        assert diff.code == 0 and diff.json["server_url"] == doctor.json["server_url"]["url"]
    else:
        assert diff.code == 1 and "127.0.0.1:" + url.split(":")[2].split("/")[0] in diff.json["error"]["message"]


def test_idflow_env_selects_and_the_flag_beats_it(envs, capsys, monkeypatch, conductor_url, dead_url):
    monkeypatch.setenv("IDFLOW_ENV", "live")
    doc = run_cli(capsys, "doctor", "--json").json
    assert doc["environment"]["selected_by"] == "IDFLOW_ENV" and doc["server_url"]["url"] == conductor_url
    doc = run_cli(capsys, "--env", "dead", "doctor", "--json").json
    assert doc["environment"]["name"] == "dead" and doc["server_url"]["url"] == dead_url


@pytest.mark.parametrize("select, wins", [("flag", "entry"), ("IDFLOW_ENV", "variable")])
def test_an_explicit_env_beats_an_ambient_conductor_server_url(envs, capsys, monkeypatch, conductor_url, dead_url,
                                                                select, wins):
    monkeypatch.setenv("CONDUCTOR_SERVER_URL", conductor_url)
    argv = ["--env", "dead"] if select == "flag" else []
    if select == "IDFLOW_ENV":
        monkeypatch.setenv("IDFLOW_ENV", "dead")
    doc = run_cli(capsys, *argv, "doctor", "--json").json
    if wins == "entry":
        assert doc["server_url"]["url"] == dead_url and "CONDUCTOR_SERVER_URL" in doc["server_url"]["ignored"]
    else:
        assert doc["server_url"]["url"] == conductor_url and doc["server_url"]["source"] == "environment variable"


@pytest.mark.parametrize("how", ["flag", "IDFLOW_ENV"])
def test_an_unknown_environment_is_an_error_listing_the_known_ones(envs, capsys, monkeypatch, how):
    argv = ["--env", "staging"] if how == "flag" else []
    if how == "IDFLOW_ENV":
        monkeypatch.setenv("IDFLOW_ENV", "staging")
    result = run_cli(capsys, *argv, "tasks", "list", "--local", "--json")
    assert result.code == 1
    assert "staging" in result.json["error"]["message"]
    assert result.json["error"]["hint"] == "known environments: live, dead, prod"


def test_a_protected_environment_needs_yes_and_a_clean_tree(envs, capsys, client, prefix):
    name = f"{prefix}guarded"
    envs.write_task(name, task_source(name))
    dirty = run_cli(capsys, "--env", "prod", "tasks", "upload", "--all", "--yes", "--json")
    assert dirty.code == 3 and "not clean" in dirty.json["error"]["message"]
    git(envs.root, "add", "-A")
    git(envs.root, "commit", "-q", "-m", "task")
    looked = run_cli(capsys, "--env", "prod", "tasks", "upload", "--all", "--dry-run", "--json")
    assert looked.code == 0  # a dry run writes nothing, so it needs nothing
    refused = run_cli(capsys, "--env", "prod", "tasks", "upload", "--all", "--json")
    assert refused.code == 3 and "--yes was not given" in refused.json["error"]["message"]
    assert name not in {d["name"] for d in client.list_taskdefs()}
    done = run_cli(capsys, "--env", "prod", "tasks", "upload", "--all", "--yes", "--json")
    assert done.code == 0 and done.json["created"] == [name]
    unprotected = run_cli(capsys, "--env", "live", "tasks", "purge", name, "-y", "--force", "--json")
    assert unprotected.code == 0 and unprotected.json["deleted"] == [name]


def test_every_client_method_is_classified_as_read_or_write():
    from idflow.conductor.client import ConductorClient
    from idflow.project.protection import READ_METHODS, WRITE_METHODS

    public = {n for n in dir(ConductorClient) if not n.startswith("_") and callable(getattr(ConductorClient, n))}
    assert public - READ_METHODS - WRITE_METHODS == set()


def _write_scene(envs, prefix):
    """A task, a workflow using it and an event handler starting that workflow, all committed."""
    name = f"{prefix}wf"
    envs.write_task(f"{prefix}t", task_source(f"{prefix}t"))
    folder = envs.workflows_dir / name
    folder.mkdir(parents=True)
    (folder / f"{name}.json").write_text(json.dumps(
        {"name": name, "version": 1, "schemaVersion": 2, "tasks": [
            {"name": f"{prefix}t", "taskReferenceName": "t_ref", "type": "SIMPLE"}]}), encoding="utf-8")
    (folder / "event_handlers.json").write_text(json.dumps([
        {"name": f"{prefix}on_done", "event": f"conductor:{name}:done", "active": True,
         "actions": [{"action": "start_workflow", "start_workflow": {"name": name}}]}]), encoding="utf-8")
    git(envs.root, "add", "-A")
    git(envs.root, "commit", "-q", "-m", "scene")
    return name


@pytest.mark.parametrize("argv", [("tasks", "upload", "--all"), ("workflows", "upload", "--all"),
                                  ("events", "upload", "--all"), ("workflow", "run", "{name}")],
                         ids=lambda argv: "-".join(argv[:2]))
def test_every_write_command_takes_yes_for_a_protected_environment(envs, capsys, client, prefix, argv):
    name = _write_scene(envs, prefix)
    if argv[0] == "workflow":  # the run needs its workflow and task on the server first
        for before in (("tasks", "upload", "--all"), ("workflows", "upload", "--all")):
            assert run_cli(capsys, "--env", "prod", *before, "--yes").code == 0
    argv = tuple(a.replace("{name}", name) for a in argv)
    refused = run_cli(capsys, "--env", "prod", *argv, "--json")
    assert refused.code == 3 and "--yes was not given" in refused.json["error"]["message"], refused.out
    confirmed = run_cli(capsys, "--env", "prod", *argv, "--yes", "--json")
    assert confirmed.code == 0, confirmed.out + confirmed.err


def test_retry_takes_yes_too(envs, capsys):
    result = run_cli(capsys, "--env", "prod", "workflow", "retry", "no-such-run", "--yes", "--json")
    assert result.code == 1 and "no-such-run" in result.json["error"]["message"]   # parsed, then not found
