"""The hand-written fast paths say exactly what the general code they replace said (no timings here).

- a plan item's JSON is what `dataclasses.asdict` made of it, for every field the dataclass has;
- the Git state read with two `git` commands is what GitPython read.
"""
from __future__ import annotations

from dataclasses import asdict, fields

import pytest

from idflow.provenance.trailer import Provenance
from idflow.taskdefs.plan import CONFLICT, FieldChange, Plan, PlanItem, _item_json
from tests.gitrepo import git, init_repo


def full_item() -> PlanItem:
    stamp = Provenance(sha="a" * 40, dirty=True, path="idflow/tasks/x/x.py", hash="h" * 16, at="2026-01-01T00:00:00+00:00",
                       project="p", fields="retryCount", taken_from="q")
    return PlanItem("x", CONFLICT, desired={"name": "x", "retryCount": 2, "inputKeys": ["a"]},
                    actual={"name": "x", "retryCount": 1, "nested": {"k": [1, {"z": None}]}},
                    changes=(FieldChange("retryCount", 1, 2), FieldChange("inputKeys", None, ["a"])),
                    source="x.py:3", seen="f" * 20, provenance=stamp, reason="why", owner="other", base=stamp)


@pytest.mark.parametrize("item", [full_item(), PlanItem("bare", "orphaned")], ids=["every-field", "defaults"])
def test_a_plan_items_json_is_what_asdict_made(item):
    made = _item_json(item)
    expected = asdict(item)
    expected["changes"] = [asdict(c) for c in item.changes]
    assert made == expected and list(made) == [f.name for f in fields(PlanItem)]


def test_the_item_json_is_a_copy_a_reader_may_change():
    item = full_item()
    made = _item_json(item)
    made["desired"]["retryCount"] = 99
    made["provenance"]["sha"] = "changed"
    assert item.desired["retryCount"] == 2 and item.provenance.sha == "a" * 40


def test_a_plan_reads_back_from_its_json():
    plan = Plan((full_item(), PlanItem("bare", "orphaned")), server_url="http://h/api")
    again = Plan.from_json(plan.to_json())
    assert again.items == plan.items


def _gitpython_state(start):
    """GitState as GitPython read it before (the reference the two `git` commands must match)."""
    import git

    from idflow.provenance.trailer import GitState

    try:
        repo = git.Repo(start, search_parent_directories=True)
        sha = repo.head.commit.hexsha
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, ValueError, git.GitCommandError):
        return GitState(None, None, frozenset())
    from pathlib import Path

    status = repo.git.status("--porcelain", "-z", "--untracked-files=all")
    dirty, entries = set(), iter(status.split("\0"))
    for entry in entries:
        if len(entry) >= 4:
            dirty.add(entry[3:])
            if "R" in entry[:2] or "C" in entry[:2]:
                dirty.add(next(entries, ""))
    return GitState(Path(repo.working_tree_dir), sha, frozenset(dirty))


def test_the_git_state_is_what_gitpython_read(tmp_path):
    from idflow.provenance.trailer import git_state

    repo = tmp_path / "repo"
    (repo / "sub" / "deep").mkdir(parents=True)
    outside = tmp_path / "not-a-repo"
    outside.mkdir()
    init_repo(repo)
    states = [(outside, git_state(outside), _gitpython_state(outside)),
              (repo, git_state(repo), _gitpython_state(repo))]  # a repository without a commit yet
    for name in ("a.py", "sub/b.py", "sub/deep/c.py", "old name.py", "ü.py"):
        (repo / name).write_text(name)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    (repo / "a.py").write_text("changed")
    (repo / "sub" / "new.py").write_text("untracked")
    git(repo, "mv", "old name.py", "new name.py")
    (repo / "ü.py").unlink()
    for start in (repo, repo / "sub" / "deep"):
        states.append((start, git_state(start), _gitpython_state(start)))
    for start, ours, theirs in states:
        assert (ours.sha, ours.dirty_paths) == (theirs.sha, theirs.dirty_paths), start
        assert (ours.root is None) == (theirs.root is None) and (
            ours.root is None or ours.root.resolve() == theirs.root.resolve())
    assert states[-1][1].dirty_paths >= {"a.py", "sub/new.py", "new name.py", "old name.py", "ü.py"}


# ---- the discovery cache: a file rewritten within the same second ---------------------------------
def test_discovery_sees_a_file_rewritten_within_the_same_second_with_the_same_size(tmp_path):
    """The warm cache must never answer for a file by its time stamp: an editor, a checkout or a script can
    rewrite a file twice within one mtime tick (and keep its size), and the second content must be read."""
    import os

    from idflow.discovery import discover
    from tests.clihelp import task_source

    tasks, cache = tmp_path / "tasks", tmp_path / "cache"
    (tasks / "greet").mkdir(parents=True)
    path = tasks / "greet" / "greet.py"
    path.write_text(task_source("greet", retry_count=1))
    stamp = (1_700_000_000, 1_700_000_000)
    os.utime(path, stamp)
    assert discover(tasks, cache_dir=cache).by_name()["greet"].task_def["retryCount"] == 1
    assert discover(tasks, cache_dir=cache).by_name()["greet"].task_def["retryCount"] == 1  # warm
    before = path.stat()
    path.write_text(task_source("greet", retry_count=7))  # same length, same second
    os.utime(path, stamp)
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    assert discover(tasks, cache_dir=cache).by_name()["greet"].task_def["retryCount"] == 7


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe", b'{"entries": NaN}', b"[" * 100_000 + b"]" * 100_000,
                                     b'{"entries": {"k": ' + b"1" * 5000 + b"}}", b'["a list"]', b'{"entries": []}'])
def test_discovery_rebuilds_a_parse_cache_it_cannot_read(tmp_path, content):
    """The cache is read by the C decoder without `read_json`'s walk: whatever is in the file, a cache that
    cannot be read is only slower (rebuilt), never an error and never a wrong answer."""
    from idflow.discovery import discover
    from idflow.discovery.walk import ParseCache
    from tests.clihelp import task_source

    tasks, cache = tmp_path / "tasks", tmp_path / "cache"
    (tasks / "greet").mkdir(parents=True)
    (tasks / "greet" / "greet.py").write_text(task_source("greet", retry_count=4))
    cache.mkdir()
    path = ParseCache(cache).path
    path.write_bytes(content)
    found = discover(tasks, cache_dir=cache)
    assert not found.errors and found.by_name()["greet"].task_def["retryCount"] == 4
    assert len(ParseCache(cache).entries) >= 1  # rewritten, readable again
    assert discover(tasks, cache_dir=cache).by_name()["greet"].task_def["retryCount"] == 4


# ---- plain http over the standard library: the same answers and errors as httpx ---------------------
def _through_httpx(url: str):
    """A client on httpx for the same URL (a transport given: httpx, as for a test or a proxy)."""
    from idflow.conductor.client import ConductorClient
    from idflow.conductor.httpx_import import import_httpx

    return ConductorClient(url, transport=import_httpx().HTTPTransport())


def test_the_standard_library_client_answers_as_httpx_does(conductor_url, prefix):
    from idflow.conductor import plain_http
    from idflow.conductor.client import ConductorClient
    from idflow.base.errors import ConnectionFailed, NotFound, ValidationFailed

    with ConductorClient(conductor_url) as plain, _through_httpx(conductor_url) as other:
        assert isinstance(plain._http, plain_http.PlainClient) and not isinstance(other._http, plain_http.PlainClient)
        defs = [{"name": f"{prefix}é#?x", "retryCount": 2, "timeoutSeconds": 60, "responseTimeoutSeconds": 10,
                 "ownerEmail": "a@b.c", "description": "ünïcode"}]
        plain.upsert_taskdefs(defs)
        for _ in range(3):  # kept-alive connections are reused
            assert plain.get_taskdef(defs[0]["name"]) == other.get_taskdef(defs[0]["name"])
        mine = lambda ds: sorted((d for d in ds if d["name"].startswith(prefix)), key=lambda d: d["name"])  # noqa: E731
        assert mine(plain.list_taskdefs()) == mine(other.list_taskdefs())
        errors = []
        for client in (plain, other):
            for call in (lambda c: c.get_taskdef(f"{prefix}missing"),
                         lambda c: c.upsert_taskdefs([{"name": f"{prefix}bad", "retryCount": -5,
                                                       "responseTimeoutSeconds": 0}]),
                         lambda c: c.get_workflow(f"{prefix}nowhere", 3)):
                try:
                    call(client)
                    errors.append(None)
                except (NotFound, ValidationFailed) as exc:
                    errors.append((type(exc).__name__, exc.status))
        assert errors[:3] == errors[3:] and errors[0] == ("NotFound", 404)
        plain.delete_taskdef(defs[0]["name"])
    with ConductorClient("http://127.0.0.1:9/api", retry=None) as closed, pytest.raises(ConnectionFailed):
        closed.retry = type(closed.retry)(max_retries=0)
        closed.list_taskdefs()


def test_the_git_state_read_alongside_discovery_is_the_same_and_stops_with_its_block(tmp_path):
    """An upload starts the two git commands before discovery and reads them after: same state; a block left
    by an error (invalid task files) leaves no git process behind."""
    from idflow.provenance.trailer import GitStateReading, git_state

    repo = init_repo(tmp_path / "repo")
    (repo / "a.py").write_text("a")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    (repo / "b.py").write_text("untracked")
    with GitStateReading(repo) as reading:
        assert reading.result() == git_state(repo) and reading.result().dirty_paths == {"b.py"}
    with pytest.raises(RuntimeError):
        with GitStateReading(repo) as reading:
            started = [p for p in reading._running if p is not None]
            raise RuntimeError("discovery failed")
    assert len(started) == 2 and all(p.returncode is not None for p in started)
