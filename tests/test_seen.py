"""What a clone's Git history held of the kinds with no stamp (idflow.provenance.seen), read from real repositories,
and the ledger's memory that a Git checkout wrote it. No server."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from idflow.engine.ledger import Ledger, read_ledger
from idflow.events.ledger import handler_hash, handler_hashes_in, is_handlers_path
from idflow.provenance.seen import SeenInGit, head_commit, history_doubt, read_seen
from idflow.workflowdefs.pulling import is_workflow_path, label, ledger_hashes_in, workflow_hash
from tests.gitrepo import commit_all, git, init_repo


def wf(name: str, version: int = 1, ref: str = "w") -> dict:
    return {"name": name, "version": version, "schemaVersion": 2,
            "tasks": [{"name": "wait", "taskReferenceName": ref, "type": "WAIT"}]}


def seen_workflows(directory: Path) -> SeenInGit | None:
    return read_seen(directory, is_workflow_path, ledger_hashes_in)


def key(definition: dict) -> tuple[str, str]:
    return label(definition["name"], definition["version"]), workflow_hash(definition)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = init_repo(tmp_path / "repo")
    (root / "idflow" / "workflows").mkdir(parents=True)
    return root


def test_every_version_ever_committed_is_seen_and_only_heads_are_at_head(repo):
    folder = repo / "idflow" / "workflows"
    first, second, moved = wf("a"), wf("a", ref="changed"), wf("b", 2)
    (folder / "a.json").write_text(json.dumps(first))
    commit_all(repo, "a")
    (folder / "a.json").write_text(json.dumps(second))
    (folder / "nested").mkdir()
    (folder / "nested" / "b v2.yaml").write_text(json.dumps(moved))
    commit_all(repo, "change a, add b")
    (folder / "a.json").unlink()
    commit_all(repo, "drop a")
    (folder / "uncommitted.json").write_text(json.dumps(wf("c")))
    seen = seen_workflows(folder)
    assert seen is not None
    assert {key(first), key(second), key(moved)} <= seen.ever
    assert key(wf("c")) not in seen.ever                      # never committed
    assert seen.at_head == {label("b", 2)}


def test_a_version_merged_from_a_branch_is_seen_through_the_merge(repo):
    folder = repo / "idflow" / "workflows"
    (repo / "readme").write_text("x")
    commit_all(repo, "base")
    git(repo, "checkout", "-q", "-b", "feature")
    (folder / "f.json").write_text(json.dumps(wf("f")))
    commit_all(repo, "feature")
    git(repo, "checkout", "-q", "main")
    (repo / "other").write_text("y")
    commit_all(repo, "main moves")
    git(repo, "merge", "-q", "--no-ff", "-m", "merge", "feature")
    assert key(wf("f")) in seen_workflows(folder).ever


def test_handlers_are_seen_by_name_and_hash_in_every_handlers_file(repo):
    folder = repo / "idflow" / "workflows"
    handler = {"name": "h", "event": "conductor:w:done", "active": True,
               "actions": [{"action": "start_workflow", "start_workflow": {"name": "w"}}]}
    (folder / "deep").mkdir()
    (folder / "deep" / "event_handlers.json").write_text(json.dumps([handler]))
    (folder / "not_handlers.json").write_text(json.dumps([handler]))
    commit_all(repo, "h")
    seen = read_seen(folder, is_handlers_path, handler_hashes_in)
    assert seen.ever == {("h", handler_hash(handler))} and seen.at_head == {"h"}


@pytest.mark.parametrize("content", [b"\xff\xfe not utf-8", b"{ not json", b"", b"[1, 2]"])
def test_a_file_that_cannot_be_read_holds_nothing_so_nothing_is_proved(repo, content):
    folder = repo / "idflow" / "workflows"
    (folder / "bad.json").write_bytes(content)
    commit_all(repo, "bad")
    seen = seen_workflows(folder)
    assert seen.ever == frozenset() and seen.at_head == frozenset()


def test_outside_git_there_is_no_history_and_with_no_commit_nothing_was_seen(tmp_path, repo):
    plain = tmp_path / "plain" / "idflow" / "workflows"
    plain.mkdir(parents=True)
    assert seen_workflows(plain) is None and head_commit(plain) == ""
    assert seen_workflows(repo / "idflow" / "workflows") == SeenInGit(frozenset(), frozenset(), frozenset())
    assert head_commit(repo / "idflow" / "workflows" / "not" / "there") == ""   # in Git, but no commit yet


def test_a_workflows_dir_that_is_gone_reads_its_history_by_path(repo):
    folder = repo / "idflow" / "workflows"
    (folder / "a.json").write_text(json.dumps(wf("a")))
    commit_all(repo, "a")
    (folder / "a.json").unlink()
    folder.rmdir()
    commit_all(repo, "drop the dir")
    assert key(wf("a")) in seen_workflows(folder).ever


SEEN = SeenInGit(frozenset({("a v1", "h1"), ("b v1", "h2")}), frozenset({"b v1"}), frozenset({"c1"}))


@pytest.mark.parametrize("name,server_hash,seen,commit,expect", [
    ("a v1", "h1", SEEN, "c1", None),                                    # written here, removal committed: ours
    ("a v1", "h1", SEEN, None, None),                                    # an older ledger: the content decides
    ("a v1", "h1", SEEN, "c9", "not in this clone's history"),            # a clone ahead, another branch
    ("a v1", "other", SEEN, "c1", "never held it as the server has it"),  # uncommitted work on a shared commit
    ("z v1", "h9", SEEN, None, "never held it as the server has it"),     # never here
    ("b v1", "h2", SEEN, "c1", "not committed"),                          # HEAD still defines it
    ("a v1", "h1", SEEN, "", "written from outside Git"),                 # whose, idflow cannot tell
    ("a v1", "h1", None, "", None),                                       # outside Git on every side
    ("a v1", "h1", None, None, None),
    ("a v1", "h1", None, "c1", "not a Git repository"),                   # a Git writer may be newer
])
def test_history_doubt(name, server_hash, seen, commit, expect):
    doubt = history_doubt(name, server_hash, seen, commit)
    assert doubt is None if expect is None else expect in doubt


def test_a_shallow_clone_says_to_fetch_its_history():
    shallow = SeenInGit(frozenset(), frozenset(), frozenset(), shallow=True)
    assert "shallow" in history_doubt("a v1", "h", shallow, "c1")


def test_only_the_commits_head_descends_from_are_ancestors(repo):
    folder = repo / "idflow" / "workflows"
    first = commit_all(repo, "one")
    git(repo, "checkout", "-q", "-b", "side")
    side = commit_all(repo, "side")
    git(repo, "checkout", "-q", "main")
    head = commit_all(repo, "two")
    seen = read_seen(folder, is_workflow_path, ledger_hashes_in, [first, side, head, "", "0" * 40])
    assert seen.ancestors == {first, head}
    assert head_commit(folder) == head and head_commit(repo.parent / "elsewhere") == ""


@pytest.mark.parametrize("kind", ["events", "workflows"])
def test_the_ledger_keeps_each_objects_commit_through_every_change(kind):
    ledger = Ledger("p", {"a": "1"}, kind).with_hashes({"b": "2"}, "c1").with_hashes({"c": "3"}, "")
    assert read_ledger("p", ledger.taskdef(), kind).commits == {"b": "c1", "c": ""}
    later = ledger.with_hashes({"b": "4"}, None).without(["c"])      # rewritten from an unknown commit; dropped
    assert read_ledger("p", later.taskdef(), kind).commits == {}
    assert read_ledger("p", Ledger("p", {"a": "1"}, kind).taskdef(), kind).commits == {}
