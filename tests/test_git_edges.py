"""Git edge cases for provenance, history and rollback, with real repositories in tmp dirs:
no commits, reflog syntax, a shallow clone, and a task dir that is a symlink out of the repo."""
from __future__ import annotations

import subprocess

import pytest

from idflow.provenance.trailer import parse_provenance
from tests.clihelp import run_cli, task_source
from tests.gitrepo import commit_all, git, init_repo

pytestmark = pytest.mark.server


def clean(result) -> str:
    text = result.out + result.err
    assert "internal error" not in text
    return " ".join(text.split())


@pytest.mark.parametrize("argv", [["tasks", "history", "x"], ["tasks", "rollback", "x", "--to", "HEAD", "-y"]])
def test_a_repository_without_commits_is_not_called_no_repository(project, capsys, argv):
    init_repo(project.root)
    result = run_cli(capsys, *argv)
    assert result.code == 1 and "has no commits yet" in clean(result)
    assert "not inside a Git repository" not in result.err


def test_no_repository_at_all_says_so(project, capsys):
    result = run_cli(capsys, "tasks", "history", "x")
    assert result.code == 1 and "not inside a Git repository" in clean(result)


@pytest.fixture
def two_branches(project, prefix):
    """main has two commits (retry_count 1, then 2); branch `other` was checked out before main."""
    init_repo(project.root)
    name = prefix + "reflog"
    path = project.write_task(name, task_source(name, retry_count=1))
    first = commit_all(project.root, "one")
    git(project.root, "checkout", "-q", "-b", "other")
    git(project.root, "checkout", "-q", "main")
    path.write_text(path.read_text().replace("retry_count=1", "retry_count=2"))
    second = commit_all(project.root, "two")
    return name, first, second


@pytest.mark.parametrize("rev,which", [("@{-1}", "first"), ("HEAD@{1}", "first"), ("HEAD@{0}", "second"),
                                       ("main@{1}", "first"), ("HEAD~1", "first")])
def test_reflog_and_relative_revisions_resolve(two_branches, capsys, rev, which):
    name, first, second = two_branches
    result = run_cli(capsys, "tasks", "rollback", name, "--to", rev, "--dry-run", "--json")
    clean(result)
    assert result.code == 0, result.err
    assert result.json["to"] == {"first": first, "second": second}[which]


@pytest.mark.parametrize("rev", ["HEAD@{100}", "@{-5}", "main@{99}", "--output=/tmp/x", "-h", "no_such_branch",
                                 "HEAD~50", "deadbeef" * 5, "HEAD^{tree}", "HEAD:idflow"])
def test_bad_revisions_are_a_clear_error(two_branches, capsys, rev):
    name, _, _ = two_branches
    result = run_cli(capsys, "tasks", "rollback", name, "--to", rev, "--dry-run", "--json")
    text = clean(result)
    assert result.code == 1 and result.json["error"]["type"] == "IdflowError"
    assert "Git revision" in text


@pytest.fixture
def shallow_clone(project, prefix, tmp_path, monkeypatch):
    """A clone of depth 1 of a three-commit history (retry_count 1, 2, 3), made the cwd."""
    init_repo(project.root)
    name = prefix + "shallow"
    path = project.write_task(name, task_source(name, retry_count=1))
    shas = [commit_all(project.root, "one")]
    for retries in (2, 3):
        path.write_text(path.read_text().replace(f"retry_count={retries - 1}", f"retry_count={retries}"))
        shas.append(commit_all(project.root, f"retries {retries}"))
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{project.root}", str(clone)], check=True)
    monkeypatch.chdir(clone)
    return name, shas


def test_shallow_history_says_it_is_truncated(shallow_clone, capsys):
    name, shas = shallow_clone
    result = run_cli(capsys, "tasks", "history", name, "--json")
    clean(result)
    assert result.code == 0, result.err
    assert [c["sha"] for c in result.json["commits"]] == [shas[-1]]
    assert result.json["truncated_at"] == [shas[-1]]
    shown = run_cli(capsys, "tasks", "history", name)
    assert "shallow clone: history is truncated" in clean(shown)


@pytest.mark.parametrize("rev", ["first", "HEAD~1", "HEAD~2"])
def test_rollback_beyond_a_shallow_clone_is_a_clear_error(shallow_clone, capsys, rev):
    name, shas = shallow_clone
    rev = shas[0] if rev == "first" else rev
    result = run_cli(capsys, "tasks", "rollback", name, "--to", rev, "-y", "--json")
    text = clean(result)
    assert result.code == 1
    assert "shallow" in text and "git fetch --unshallow" in text


@pytest.fixture
def linked(project, prefix, tmp_path):
    """A repository whose task dir `<prefix>linked` is a committed symlink to a folder outside it."""
    init_repo(project.root)
    inside = prefix + "inside"
    project.write_task(inside, task_source(inside, retry_count=1))
    name = prefix + "linked"
    outside = tmp_path / "elsewhere" / name
    outside.mkdir(parents=True)
    (outside / "__init__.py").touch()
    (outside / f"{name}.py").write_text(task_source(name, retry_count=4))
    (project.tasks_dir / name).symlink_to(outside, target_is_directory=True)
    commit_all(project.root, "tasks, one of them linked")
    assert git(project.root, "status", "--porcelain") == ""  # Git itself calls this clean
    return name, inside


def test_require_clean_refuses_a_task_behind_a_symlink(linked, client, capsys):
    name, inside = linked
    result = run_cli(capsys, "tasks", "upload", name, "--require-clean", "--json")
    text = clean(result)
    assert result.code == 3 and "symlink" in text and name in text
    assert run_cli(capsys, "tasks", "upload", inside, "--require-clean").code == 0  # the tracked one is fine


def test_the_stamp_never_claims_a_clean_commit_for_a_linked_task(linked, client, capsys):
    name, inside = linked
    result = run_cli(capsys, "tasks", "upload", "--all", "--json")
    assert result.code == 0, result.err
    assert name in result.json["dirty"] and inside not in result.json["dirty"]
    assert parse_provenance(client.get_taskdef(name)["description"]).dirty is True
    assert parse_provenance(client.get_taskdef(inside)["description"]).dirty is False


@pytest.mark.parametrize("argv", [["tasks", "history", "{name}"],
                                  ["tasks", "rollback", "{name}", "--to", "HEAD", "--dry-run"],
                                  ["tasks", "rollback", "--all", "--to", "HEAD", "--dry-run"]])
def test_history_and_rollback_say_why_they_cannot_help(linked, capsys, argv):
    name, _ = linked
    result = run_cli(capsys, *[a.format(name=name) for a in argv])
    text = clean(result)
    assert result.code == 1
    assert "symlink" in text and "Git holds only the link" in text


def test_rollback_of_a_tracked_task_beside_a_link_works(linked, capsys):
    _, inside = linked
    result = run_cli(capsys, "tasks", "rollback", inside, "--to", "HEAD", "--dry-run", "--json")
    assert result.code == 0, result.err


def test_upload_in_a_repository_without_commits_says_so(project, prefix, capsys):
    init_repo(project.root)
    name = prefix + "uncommitted"
    project.write_task(name, task_source(name, retry_count=1))
    result = run_cli(capsys, "tasks", "upload", name, "--dry-run")
    text = clean(result)
    assert result.code == 0 and "no commits yet" in text and "provenance missing" in text
