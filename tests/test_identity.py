"""Who owns a definition: a project identity that is the same in every clone and distinct
between projects (issue 16), and `tasks adopt` for definitions stamped under an old one.

Real Git repositories in temp dirs, the real Conductor server.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from idflow.project.identity import normalise_remote
from tests.clihelp import run_cli, task_source
from tests.gitrepo import commit_all, git, init_repo


@pytest.mark.parametrize("url", ["git@Git.Example.org:org/app.git", "https://git.example.org/org/app",
                                 "https://user:secret@git.example.org/org/app.git/", "ssh://git@git.example.org:22/org/app",
                                 "git.example.org:org/app.git", "http://git.example.org:8080/org/app/"])
def test_one_repository_has_one_identity_however_its_remote_is_spelled(url):
    assert normalise_remote(url) == "git.example.org/org/app"


@pytest.mark.parametrize("url", ["git@git.example.org:other/app.git", "https://git.example.org/org/app2",
                                 "https://elsewhere.example/org/app"])
def test_other_repositories_have_other_identities(url):
    assert normalise_remote(url) != "git.example.org/org/app"


def test_credentials_never_reach_the_identity():
    assert "secret" not in normalise_remote("https://user:secret@h/org/app")


def test_a_local_bare_repository_is_its_absolute_path(tmp_path):
    bare = tmp_path / "app.git"
    assert normalise_remote(str(bare)) == normalise_remote(f"file://{bare}") == str(tmp_path.resolve() / "app")


def make_repo(root: Path, conductor_url: str, *, origin: str | None, project: str | None = None) -> Path:
    """A committed repository with config/idflow.yml (no `project:` unless given) and an origin remote."""
    (root / "config").mkdir(parents=True)
    (root / "idflow" / "tasks").mkdir(parents=True)
    lines = [f"conductor_server_url: {conductor_url}"] + ([f"project: {project}"] if project else [])
    (root / "config" / "idflow.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    init_repo(root)
    if origin:
        git(root, "remote", "add", "origin", origin)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def write_task(root: Path, name: str) -> None:
    folder = root / "idflow" / "tasks" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "__init__.py").touch()
    (folder / f"{name}.py").write_text(task_source(name, retry_count=2), encoding="utf-8")


def actions(capsys, name: str) -> str:
    doc = run_cli(capsys, "tasks", "diff", "--json").json
    return next(i["action"] for i in doc["items"] if i["name"] == name)


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("IDFLOW_CONFIG", "IDFLOW_ENV", "IDFLOW_TASKS_DIR", "IDFLOW_STATE_DIR", "CONDUCTOR_SERVER_URL"):
        monkeypatch.delenv(name, raising=False)


def test_two_clones_under_different_names_agree_on_ownership(tmp_path, conductor_url, prefix, capsys, monkeypatch,
                                                             clean_env):
    name = f"{prefix}owned"
    seed = make_repo(tmp_path / "seed", conductor_url, origin=None)
    write_task(seed, name)
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "task")
    bare = tmp_path / "remote" / "app.git"
    git(tmp_path, "clone", "-q", "--bare", str(seed), str(bare))
    alice, runner = tmp_path / "alice-checkout", tmp_path / "builds" / "ci-runner-42"
    git(tmp_path, "clone", "-q", str(bare), str(alice))
    git(tmp_path, "clone", "-q", f"file://{bare}", str(runner))

    monkeypatch.chdir(alice)
    doctor = run_cli(capsys, "doctor", "--json").json
    assert doctor["identity"] == {"value": normalise_remote(str(bare)), "source": "git remote origin"}
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0

    monkeypatch.chdir(runner)  # the CI runner's clone, where the task has just been deleted
    assert run_cli(capsys, "doctor", "--json").json["identity"] == doctor["identity"]
    shutil.rmtree(runner / "idflow" / "tasks" / name)
    assert actions(capsys, name) == "uncertain"  # ours, but the deletion is not committed yet
    commit_all(runner, "drop the task")
    assert actions(capsys, name) == "orphaned"  # ours, not "foreign" / "not uploaded by idflow"


def test_unrelated_repositories_with_the_same_name_never_purge_each_other(tmp_path, conductor_url, prefix, capsys,
                                                                          monkeypatch, clean_env, client):
    name = f"{prefix}theirs"
    first = make_repo(tmp_path / "team-a" / "app", conductor_url, origin="git@git.example.org:team-a/app.git")
    second = make_repo(tmp_path / "team-b" / "app", conductor_url, origin="https://git.example.org/team-b/app")
    write_task(first, name)
    monkeypatch.chdir(first)
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0

    monkeypatch.chdir(second)
    assert actions(capsys, name) == "foreign"
    purged = run_cli(capsys, "tasks", "purge", "--orphaned", "-y", "--json")
    assert purged.code == 0, purged.err
    assert name not in purged.json["deleted"]
    assert client.get_taskdef(name)["name"] == name


@pytest.mark.parametrize("argv", [("tasks", "purge", "--orphaned", "-y"), ("tasks", "sync", "--prune", "-y"),
                                  ("tasks", "sync", "--prune", "--dry-run")])
def test_without_an_identity_what_needs_one_is_refused(tmp_path, conductor_url, prefix, capsys, monkeypatch,
                                                       clean_env, client, argv):
    name = f"{prefix}nobody"
    root = make_repo(tmp_path / "app", conductor_url, origin=None)
    write_task(root, name)
    monkeypatch.chdir(root)
    uploaded = run_cli(capsys, "tasks", "upload", "--all", "--json")
    assert uploaded.code == 0, uploaded.err  # the plain upload still works: stamped without a project
    from idflow.provenance.trailer import parse_provenance

    stamp = parse_provenance(client.get_taskdef(name)["description"])
    assert stamp is not None and stamp.project is None
    before = client.stats.writes if hasattr(client, "stats") else None
    refused = run_cli(capsys, *argv, "--json")
    assert refused.code == 3, refused.err
    assert "project" in refused.json["error"]["hint"] and "idflow init" in refused.json["error"]["hint"]
    assert client.get_taskdef(name)["name"] == name
    assert before is None or client.stats.writes == before


def test_adopt_restamps_an_old_identity_only_when_asked(tmp_path, conductor_url, prefix, capsys, monkeypatch,
                                                        clean_env, client):
    from idflow.provenance.trailer import parse_provenance

    name, other = f"{prefix}adopted", f"{prefix}kept"
    root = make_repo(tmp_path / "app", conductor_url, origin=None, project=f"{prefix}old")
    write_task(root, name)
    write_task(root, other)
    commit_all(root, "two tasks")
    monkeypatch.chdir(root)
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0
    config = root / "config" / "idflow.yml"
    config.write_text(config.read_text().replace(f"project: {prefix}old", f"project: {prefix}new"))
    assert actions(capsys, name) == "unchanged"  # the identity never decides a local task's plan
    shutil.rmtree(root / "idflow" / "tasks" / name)
    commit_all(root, "drop a task")
    assert actions(capsys, name) == "foreign"    # never adopted silently

    shown = run_cli(capsys, "tasks", "adopt", "--from", f"{prefix}old", name, "--json")  # no terminal, no -y
    assert shown.code == 0 and shown.json["dry_run"] is True and shown.json["would_adopt"] == [name]
    dry = run_cli(capsys, "tasks", "adopt", "--from", f"{prefix}old", name, "--dry-run", "--json").json
    assert dry["would_adopt"] == [name] and dry["to"] == f"{prefix}new"
    assert parse_provenance(client.get_taskdef(name)["description"]).project == f"{prefix}old"

    done = run_cli(capsys, "tasks", "adopt", "--from", f"{prefix}old", name, "-y", "--json")
    assert done.code == 0, done.err
    assert done.json["adopted"] == [name] and done.json["failed"] == []
    backup = json.loads(Path(done.json["backup"]).read_text())
    assert [d["name"] for d in backup["taskdefs"]] == [name]
    assert parse_provenance(client.get_taskdef(name)["description"]).project == f"{prefix}new"
    assert parse_provenance(client.get_taskdef(other)["description"]).project == f"{prefix}old"  # not named
    assert actions(capsys, name) == "orphaned"


@pytest.mark.parametrize("other_dir, clash", [(".", False), ("svc_b", True)], ids=["same_project", "another_project"])
def test_a_config_elsewhere_for_the_same_project_is_no_clash(tmp_path, other_dir, clash):
    """The quickstart's `.idflow/quickstart.yml` is config/idflow.yml with another URL: the same project, same
    tasks; a copied `project:` in another project's directory is a clash (every write refuses)."""
    from idflow.project.identity import ProjectIdentity, identity_clashes

    root = init_repo(tmp_path / "repo")
    (root / other_dir / "config").mkdir(parents=True, exist_ok=True)
    (root / other_dir / "config" / "idflow.yml").write_text("project: shared\nconductor_server_url: http://x/api\n")
    (root / ".idflow").mkdir()
    (root / ".idflow" / "quickstart.yml").write_text("project: shared\nconductor_server_url: http://y/api\n")
    commit_all(root, "configs")
    in_use = str(root / ".idflow" / "quickstart.yml")
    found = identity_clashes(ProjectIdentity("shared", "config key project"), root, in_use)
    assert found == ([f"{other_dir}/config/idflow.yml"] if clash else [])


@pytest.mark.server
def test_the_quickstarts_config_is_this_repositorys_own_project(tmp_path, conductor_url):
    """What scripts/quickstart.sh does, in this repository: config/idflow.yml with the URL replaced, used
    through IDFLOW_CONFIG. doctor finds no identity clash (a clash refuses every write: the quickstart broke)."""
    import os
    import re
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[1]
    text = (repo / "config" / "idflow.yml").read_text()
    config = tmp_path / "quickstart.yml"
    config.write_text(re.sub(r"(?m)^conductor_server_url:.*$", f"conductor_server_url: {conductor_url}", text))
    env = {k: v for k, v in os.environ.items() if k not in ("CONDUCTOR_SERVER_URL", "IDFLOW_ENV")}
    done = subprocess.run([sys.executable, "-m", "idflow.cli", "--json", "doctor"], cwd=repo, capture_output=True,
                          text=True, env={**env, "IDFLOW_CONFIG": str(config)}, timeout=120)
    checks = {c["name"]: c for c in json.loads(done.stdout)["checks"]}
    assert checks["identity"]["ok"] is True, checks["identity"]
    assert checks["server"]["ok"] is True
