"""Provenance, history and rollback with a real Git repository and the real server."""
from __future__ import annotations


import pytest

from idflow.provenance.trailer import parse_provenance
from tests.clihelp import run_cli, task_source
from tests.gitrepo import commit_all, git, init_repo

pytestmark = pytest.mark.server


@pytest.fixture
def repo(project):
    init_repo(project.root)
    return project


def test_provenance_round_trip_history_and_rollback(repo, prefix, client, capsys):
    name = prefix + "hist"
    path = repo.write_task(name, task_source(name, retry_count=1))
    v1 = commit_all(repo.root, "add task")
    path.write_text(path.read_text() + "\n# a comment changes no definition\n")
    comment_only = commit_all(repo.root, "comment only")
    (repo.root / "README.txt").write_text("unrelated")
    commit_all(repo.root, "unrelated file")
    path.write_text(path.read_text().replace("retry_count=1", "retry_count=2"))
    v2 = commit_all(repo.root, "more retries")

    uploaded = run_cli(capsys, "tasks", "upload", name, "--json")
    assert uploaded.code == 0 and uploaded.json["provenance_missing"] is False
    stamp = parse_provenance(client.get_taskdef(name)["description"])
    assert (stamp.sha, stamp.dirty, stamp.path) == (v2, False, f"idflow/tasks/{name}/{name}.py")
    assert run_cli(capsys, "tasks", "diff").code == 0  # provenance alone is never drift

    history = run_cli(capsys, "tasks", "history", name, "--json").json
    assert [c["sha"] for c in history["commits"]] == [v2, v1]
    assert comment_only not in [c["sha"] for c in history["commits"]]
    assert history["commits"][0]["changes"] == [{"field": "retryCount", "old": 1, "new": 2}]
    assert history["server_matches"] == v2 and history["server_sha"] == v2

    before_tree = path.read_text()
    rolled = run_cli(capsys, "tasks", "rollback", name, "--to", v1, "-y", "--json")
    assert rolled.code == 0 and rolled.json["updated"] == [name]
    server = client.get_taskdef(name)
    assert server["retryCount"] == 1 and parse_provenance(server["description"]).sha == v1
    assert path.read_text() == before_tree and git(repo.root, "status", "--porcelain") == ""
    assert rolled.json["backup"]  # the v2 copy was kept before the overwrite
    assert run_cli(capsys, "tasks", "diff").code == 4  # the working tree still says v2


def test_rollback_without_a_terminal_or_yes_refuses(repo, prefix, client, capsys):
    name = prefix + "r"
    path = repo.write_task(name, task_source(name, retry_count=1))
    v1 = commit_all(repo.root, "v1")
    path.write_text(path.read_text().replace("retry_count=1", "retry_count=3"))
    commit_all(repo.root, "v2")
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    refused = run_cli(capsys, "tasks", "rollback", name, "--to", v1)
    assert refused.code == 3 and client.get_taskdef(name)["retryCount"] == 3
    assert run_cli(capsys, "tasks", "rollback", name, "--to", "no-such-rev", "-y").code == 1


def test_dirty_tree_warns_and_require_clean_refuses(repo, prefix, client, capsys):
    name = prefix + "dirty"
    path = repo.write_task(name, task_source(name, retry_count=1))
    commit_all(repo.root, "v1")
    path.write_text(path.read_text().replace("retry_count=1", "retry_count=5"))
    refused = run_cli(capsys, "tasks", "upload", name, "--require-clean")
    assert refused.code == 3 and name not in {d["name"] for d in client.list_taskdefs()}
    warned = run_cli(capsys, "tasks", "upload", name, "--json")
    assert warned.code == 0 and warned.json["dirty"] == [name] and "uncommitted" in warned.err
    assert parse_provenance(client.get_taskdef(name)["description"]).dirty is True


def test_outside_git_uploads_work_and_say_provenance_is_missing(project, prefix, client, capsys):
    name = prefix + "nogit"
    project.write_task(name, task_source(name))
    result = run_cli(capsys, "tasks", "upload", name, "--json")
    assert result.code == 0 and result.json["provenance_missing"] is True and "provenance missing" in result.err
    assert parse_provenance(client.get_taskdef(name)["description"]).sha is None
