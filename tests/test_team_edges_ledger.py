"""The team's edges for the kinds with no stamp, against the real server: workflow versions and event handlers.

Their ledger says what a project wrote and the hash of each, not from which commit. So a clone behind another, on
another branch, or beside someone's uncommitted upload sees the newer object in its ledger, unchanged, with no
local file: on the ledger alone, `purge --orphaned` would delete a teammate's work. It must keep it (uncertain)
unless this clone's own Git history once held it as the server has it and HEAD no longer does.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from tests.eventhelp import handler, handler_prefix  # noqa: F401  (a fixture)
from tests.gitrepo import clone, commit_all, git
from tests.test_team_edges import clean_env, cli, make_project  # noqa: F401  (clean_env is a fixture)

pytestmark = pytest.mark.server


@dataclass(frozen=True)
class Kind:
    command: str
    add: Callable[[Path, str], None]          # write the object's file into a checkout
    drop: Callable[[Path, str], None]         # remove it from the files
    present: Callable[[object, str], bool]    # is it on the server
    label: Callable[[str], object]            # how the purge's "deleted" names it


def _workflow_file(root: Path, name: str) -> Path:
    return root / "idflow" / "workflows" / f"{name}.json"


def _add_workflow(root: Path, name: str) -> None:
    path = _workflow_file(root, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"name": name, "version": 1, "schemaVersion": 2, "ownerEmail": "dev@example.org",
                                "tasks": [{"name": "wait", "taskReferenceName": "wait", "type": "WAIT"}]}, indent=2))


def _handlers_file(root: Path) -> Path:
    return root / "idflow" / "workflows" / "event_handlers.json"


def _add_handler(root: Path, name: str) -> None:
    path = _handlers_file(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(path.read_text()) if path.exists() else []
    path.write_text(json.dumps(existing + [handler(name, f"conductor:{name}:done")], indent=2))


def _drop_handler(root: Path, name: str) -> None:
    path = _handlers_file(root)
    path.write_text(json.dumps([h for h in json.loads(path.read_text()) if h["name"] != name], indent=2))


def _workflow_present(client, name: str) -> bool:
    return any(d.get("name") == name for d in client.list_workflows())


def _handler_present(client, name: str) -> bool:
    return any(h.get("name") == name for h in client.list_event_handlers())


KINDS = {
    "workflows": Kind("workflows", _add_workflow, lambda root, name: _workflow_file(root, name).unlink(),
                      _workflow_present, lambda name: {"name": name, "version": 1}),
    "events": Kind("events", _add_handler, _drop_handler, _handler_present, lambda name: name),
}


@pytest.fixture
def team(tmp_path, conductor_url, prefix, client):
    """The project name shared by the clones; its ledgers are deleted afterwards."""
    name = f"{prefix}team"
    yield name
    from idflow.base.errors import ConductorError
    from idflow.engine.ledger import ledger_name

    for kind in ("events", "workflows"):
        try:
            client.delete_taskdef(ledger_name(name, kind))
        except ConductorError:
            pass


@pytest.fixture(params=list(KINDS))
def kind(request) -> Kind:
    return KINDS[request.param]


def upload(capsys, monkeypatch, root: Path, kind: Kind) -> None:
    done = cli(capsys, monkeypatch, root, kind.command, "upload", "--all", "--json")
    assert done.code == 0, done.err


def purge_orphaned(capsys, monkeypatch, root: Path, kind: Kind) -> dict:
    done = cli(capsys, monkeypatch, root, kind.command, "purge", "--orphaned", "-y", "--json")
    assert done.code == 0, done.err
    return done.json


def skip_reason(doc: dict, name: str) -> str:
    return next((s["reason"] for s in doc["skipped"] if s["name"] == name), "")


# ---- how a clone comes to lack what its project wrote -----------------------------------------------------------
def _behind(a: Path, b: Path, kind: Kind, name: str) -> None:
    """A adds the object, commits and uploads; B is a clone from before."""
    kind.add(a, name)
    commit_all(a, "add")


def _other_branch(a: Path, b: Path, kind: Kind, name: str) -> None:
    """A adds it on main; B has fetched that but works on a branch that never had it."""
    kind.add(a, name)
    commit_all(a, "add")
    git(b, "fetch", "-q", "origin")
    git(b, "checkout", "-q", "-b", "elsewhere")
    (b / "notes.txt").write_text("b's own work\n")
    commit_all(b, "b's branch")


def _uncommitted(a: Path, b: Path, kind: Kind, name: str) -> None:
    """A uploads an object it never committed, on top of a commit B has too."""
    (a / "readme.txt").write_text("shared\n")
    commit_all(a, "shared commit")
    git(b, "pull", "-q", "origin", "main")
    kind.add(a, name)


def _changed_ahead(a: Path, b: Path, kind: Kind, name: str) -> None:
    """B once had the object and dropped it; A, ahead, brought it back changed: B never held what the server has."""
    kind.add(a, name)
    commit_all(a, "add")
    git(b, "pull", "-q", "origin", "main")
    kind.drop(b, name)
    commit_all(b, "b drops it")
    kind.drop(a, name)
    kind.add(a, name)
    path = _workflow_file(a, name) if kind.command == "workflows" else _handlers_file(a)
    path.write_text(path.read_text().replace('"wait"', '"wait_longer"').replace(":done", ":finished"))
    commit_all(a, "a brings it back, changed")


def _reverted_ahead(a: Path, b: Path, kind: Kind, name: str) -> None:
    """B had it and dropped it; A, ahead, reverted that drop: the very content B once held, from a commit B lacks."""
    kind.add(a, name)
    commit_all(a, "add")
    git(b, "pull", "-q", "origin", "main")
    kind.drop(b, name)
    dropped = commit_all(b, "b drops it")
    git(b, "push", "-q", "origin", "HEAD:refs/heads/dropped")   # A takes B's drop, then reverts it
    git(a, "merge", "-q", "--ff-only", "dropped")
    git(a, "revert", "--no-edit", dropped)


STALE = {"clone_behind": _behind, "another_branch": _other_branch, "uncommitted_upload": _uncommitted,
         "dropped_here_changed_there": _changed_ahead, "dropped_here_reverted_there": _reverted_ahead}
NOT_IN_HISTORY = "not in this clone's history"
WHY = {"clone_behind": NOT_IN_HISTORY, "another_branch": NOT_IN_HISTORY, "uncommitted_upload": "never held it",
       "dropped_here_changed_there": NOT_IN_HISTORY, "dropped_here_reverted_there": NOT_IN_HISTORY}


@pytest.mark.parametrize("shape", list(STALE))
def test_what_a_teammate_wrote_from_a_commit_this_clone_lacks_is_kept(
        shape, kind, tmp_path, conductor_url, team, prefix, handler_prefix, client, capsys, monkeypatch, clean_env):
    a = make_project(tmp_path / "a", conductor_url, team)
    b = clone(a, tmp_path / "b")
    name = (prefix if kind.command == "workflows" else handler_prefix) + "x"
    STALE[shape](a, b, kind, name)
    upload(capsys, monkeypatch, a, kind)
    doc = purge_orphaned(capsys, monkeypatch, b, kind)
    assert doc["deleted"] == [] and WHY[shape] in skip_reason(doc, name), doc
    assert kind.present(client, name)
    if kind.command == "workflows":   # the diff says what the purge does
        diff = cli(capsys, monkeypatch, b, "workflows", "diff", "--json").json
        assert next(i["state"] for i in diff["items"] if i["name"] == name) == "uncertain"
    if shape in ("clone_behind", "another_branch"):   # once B has A's commit, B defines it too: never an orphan
        git(b, "checkout", "-q", "main")
        git(b, "pull", "-q", "--no-rebase", "origin", "main")
        assert purge_orphaned(capsys, monkeypatch, b, kind)["deleted"] == []
        assert kind.present(client, name)


def test_a_clone_that_had_it_and_committed_its_removal_purges_it(
        kind, tmp_path, conductor_url, team, prefix, handler_prefix, client, capsys, monkeypatch, clean_env):
    a = make_project(tmp_path / "a", conductor_url, team)
    name = (prefix if kind.command == "workflows" else handler_prefix) + "x"
    kind.add(a, name)
    commit_all(a, "add")
    b = clone(a, tmp_path / "b")
    upload(capsys, monkeypatch, a, kind)
    kind.drop(b, name)
    doc = purge_orphaned(capsys, monkeypatch, b, kind)
    assert doc["deleted"] == [] and "not committed" in skip_reason(doc, name), doc
    commit_all(b, "drop in b")
    if kind.command == "workflows":
        diff = cli(capsys, monkeypatch, b, "workflows", "diff", "--json").json
        assert next(i["state"] for i in diff["items"] if i["name"] == name) == "orphaned"
    assert purge_orphaned(capsys, monkeypatch, b, kind)["deleted"] == [kind.label(name)]
    assert not kind.present(client, name)


def test_a_checkout_outside_git_keeps_what_a_git_checkout_wrote(
        kind, tmp_path, conductor_url, team, prefix, handler_prefix, client, capsys, monkeypatch, clean_env):
    """A deployment copied without .git (a container, an archive) cannot tell whether a Git writer was newer."""
    a = make_project(tmp_path / "a", conductor_url, team)
    copy = tmp_path / "copy"
    shutil.copytree(a, copy, ignore=shutil.ignore_patterns(".git"))
    name = (prefix if kind.command == "workflows" else handler_prefix) + "x"
    kind.add(a, name)
    commit_all(a, "add")
    upload(capsys, monkeypatch, a, kind)
    doc = purge_orphaned(capsys, monkeypatch, copy, kind)
    assert doc["deleted"] == [] and "not a Git repository" in skip_reason(doc, name), doc
    assert kind.present(client, name)
