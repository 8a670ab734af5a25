"""`idflow init`: a user's repository gets a config with a project identity, an example task
and a prefect.yaml pointing at the installed flows; existing files are never overwritten
without --force."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.clihelp import run_cli



def files(task: str) -> list[str]:
    return ["config/idflow.yml", "prefect.yaml", f"idflow/tasks/{task}/__init__.py",
            f"idflow/tasks/{task}/{task}.py", f"idflow/tasks/{task}/requirements.txt"]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "My Repo"
    root.mkdir()
    for name in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(root)
    return root


def test_init_writes_config_task_and_prefect_yaml(repo, capsys):
    done = run_cli(capsys, "--server-url", "http://127.0.0.1:8999/api", "init", "--json")
    assert done.code == 0, done.err
    doc = done.json
    # The example task is named after the project identity: a second team's init never collides.
    assert doc["task"] == doc["project"].replace("-", "_") + "_hello"
    assert sorted(doc["created"]) == sorted(files(doc["task"])) and doc["overwritten"] == []
    assert re.fullmatch(r"my-repo-[0-9a-f]{8}", doc["project"])
    assert all((repo / rel).is_file() for rel in files(doc["task"]))

    from idflow.project.config import load_config
    from idflow.discovery import discover

    config = load_config()
    assert config.project == doc["project"] == config.project_name
    assert config.conductor_server_url == "http://127.0.0.1:8999/api"
    found = discover(config.resolve(config.tasks_dir))
    assert [t.name for t in found.tasks] == [doc["task"]] and not found.errors
    # Its description says what it does: no placeholder, no input schema.
    assert found.tasks[0].task_def["description"] == \
        "The example task idflow init wrote: returns its input text as the result."


def test_two_repositories_with_one_name_get_two_identities(tmp_path, monkeypatch, capsys):
    ids = []
    for parent in ("a", "b"):
        root = tmp_path / parent / "app"
        root.mkdir(parents=True)
        monkeypatch.chdir(root)
        ids.append(run_cli(capsys, "init", "--json").json)
    assert ids[0]["project"] != ids[1]["project"] and all(i["project"].startswith("app-") for i in ids)
    assert ids[0]["task"] != ids[1]["task"] and all(i["task"].startswith("app_") for i in ids)


def test_prefect_yaml_deploys_the_installed_flows_by_module(repo, capsys):
    assert run_cli(capsys, "init").code == 0
    document = yaml.safe_load((repo / "prefect.yaml").read_text())
    entrypoints = {d["name"]: d["entrypoint"] for d in document["deployments"]}
    assert entrypoints == {"idflow-drift-report": "idflow.flows.definitions:diff",
                           "idflow-sync": "idflow.flows.definitions:sync",
                           "idflow-upload": "idflow.flows.definitions:upload",
                           "idflow-purge-orphaned": "idflow.flows.definitions:purge_orphaned",
                           "idflow-task-status": "idflow.flows.definitions:status"}
    from prefect.flows import Flow
    from prefect.utilities.importtools import import_object

    assert all(isinstance(import_object(e), Flow) for e in entrypoints.values())
    [pull] = document["pull"]
    assert pull["prefect.deployments.steps.set_working_directory"]["directory"] == "{{ $IDFLOW_PROJECT_DIR }}"


def test_no_deployment_writes_on_a_schedule_that_is_on(repo, capsys):
    """Trying Prefect out must not start writing to Conductor: a deployment whose flow writes
    has no active schedule; the read-only drift report may keep its hourly one."""
    assert run_cli(capsys, "init").code == 0
    document = yaml.safe_load((repo / "prefect.yaml").read_text())
    read_only = {"idflow.flows.definitions:diff", "idflow.flows.definitions:discover",
                 "idflow.flows.definitions:status"}
    for deployment in document["deployments"]:
        active = [s for s in deployment.get("schedules") or [] if s.get("active", True)]
        if deployment["entrypoint"] not in read_only:
            assert active == [], deployment["name"]
    text = (repo / "prefect.yaml").read_text()
    # How to turn it on, where the schedule is: the guide's sed edits exactly this line.
    assert "prefect --no-prompt deploy --name idflow-sync" in text and "active: false  # writes" in text


@pytest.mark.parametrize("directory, task", [("2024 App", "p_2024_app_"), ("---", "project_")])
def test_the_example_task_name_is_a_valid_task_name_for_any_directory(tmp_path, monkeypatch, capsys,
                                                                      directory, task):
    root = tmp_path / directory
    root.mkdir()
    monkeypatch.chdir(root)
    done = run_cli(capsys, "init", "--json")
    assert done.code == 0, done.err
    assert done.json["task"].startswith(task) and done.json["task"].endswith("_hello")


def test_existing_files_are_refused_by_name_and_nothing_is_written(repo, capsys):
    (repo / "prefect.yaml").write_text("# mine\n")
    done = run_cli(capsys, "init", "--json")
    assert done.code == 3
    assert "prefect.yaml" in done.json["error"]["message"] and "--force" in done.json["error"]["hint"]
    assert done.out.count("\n") == 1  # exactly one JSON document
    assert (repo / "prefect.yaml").read_text() == "# mine\n"
    assert not (repo / "config").exists() and not (repo / "idflow").exists()


def test_force_overwrites_and_keeps_the_project_identity(repo, capsys):
    first = run_cli(capsys, "init", "--json").json["project"]
    (repo / "prefect.yaml").write_text("# mine\n")
    again = run_cli(capsys, "init", "--force", "--json")
    assert again.code == 0, again.err
    assert again.json["project"] == first and again.json["project_kept"] is True
    assert sorted(again.json["overwritten"]) == sorted(files(again.json["task"])) and again.json["created"] == []
    assert "idflow.flows.definitions:sync" in (repo / "prefect.yaml").read_text()


def test_a_task_name_idflow_would_reject_is_a_usage_error(repo, capsys):
    done = run_cli(capsys, "init", "--task", "not a name")
    assert done.code == 2
    assert list(repo.iterdir()) == []


OWN_CONFIG = """project: team-app-1234
conductor_server_url: http://conductor.internal:8080/api
default_environment: staging
environments:
  staging: {conductor_server_url: "http://staging:8080/api"}
  prod: {conductor_server_url: "http://prod:8080/api", protected: true}
"""


@pytest.mark.parametrize("extra", [[], ["--task", "other"]], ids=["same-task", "other-task"])
def test_force_keeps_the_old_files_as_backups_and_the_server_url(repo, capsys, extra):
    (repo / "config").mkdir()
    (repo / "config" / "idflow.yml").write_text(OWN_CONFIG)
    (repo / "prefect.yaml").write_text("# mine\n")
    done = run_cli(capsys, "init", "--force", "--json", *extra)
    assert done.code == 0, done.err
    backups = done.json["backups"]
    assert sorted(backups) == sorted(done.json["overwritten"]) == ["config/idflow.yml", "prefect.yaml"]
    assert (repo / backups["config/idflow.yml"]).read_text() == OWN_CONFIG   # environments: and protected: kept
    assert (repo / backups["prefect.yaml"]).read_text() == "# mine\n"
    new = yaml.safe_load((repo / "config" / "idflow.yml").read_text())
    assert new["project"] == "team-app-1234" and new["conductor_server_url"] == "http://conductor.internal:8080/api"
    shown = run_cli(capsys, "init", "--force")
    assert shown.code == 0 and "the old one is now config/idflow.yml." in " ".join(shown.err.split() + shown.out.split())


@pytest.mark.parametrize("make, fragment", [
    (lambda r: (r / "config").write_text("x"), "config is a file, not a folder"),
    (lambda r: (r / "config" / "idflow.yml").mkdir(parents=True), "it is a directory, not a file"),
    (lambda r: (r / "idflow").write_text("x"), "idflow is a file, not a folder"),
    (lambda r: (r / "prefect.yaml").mkdir(), "prefect.yaml: it is a directory"),
], ids=["config-is-a-file", "idflow.yml-is-a-dir", "idflow-is-a-file", "prefect.yaml-is-a-dir"])
@pytest.mark.parametrize("force", [[], ["--force"]], ids=["plain", "force"])
def test_a_path_in_the_way_is_a_clear_error_and_nothing_is_written(repo, capsys, make, fragment, force):
    make(repo)
    before = sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*"))
    done = run_cli(capsys, "init", "--json", *force)
    assert done.code == 1 and fragment in done.json["error"]["message"], done.out + done.err
    assert done.json["error"]["type"] == "FileWriteError"
    assert sorted(p.relative_to(repo).as_posix() for p in repo.rglob("*")) == before


def test_force_over_a_fifo_config_moves_it_aside_without_reading_it(repo, capsys):
    import os

    (repo / "config").mkdir()
    os.mkfifo(repo / "config" / "idflow.yml")
    done = run_cli(capsys, "init", "--force", "--json")  # reading the FIFO would block forever
    assert done.code == 0, done.err
    assert (repo / done.json["backups"]["config/idflow.yml"]).is_fifo()
