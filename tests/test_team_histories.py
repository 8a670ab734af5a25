"""A property over random team histories, on the real server: purge never deletes what is someone's.

A history is a random sequence of what a team does: two clones of one project (adding and removing
tasks, committing, pulling, pushing, uploading, purging, hiding a task layer as a clone without
submodules does), a second project on the same server, and people editing definitions in the UI.

After every `tasks purge --orphaned` the test checks each deleted definition against its own
record of the history (never against idflow's reasoning): it was this project's, its last upload
came from committed code the purging clone has in its history, the purging clone's code no longer
declares it, nobody edited it on the server since, and no layer was missing.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clihelp import PROJECT_ENV, run_cli, task_source
from tests.gitrepo import clone, commit_all, git, init_repo

pytestmark = [pytest.mark.server, pytest.mark.slow]

NAMES = 3          # tasks p0..p2 of the project; v0 lives in the vendor layer
CLONES = ("a", "b")

# What a team does most often comes up most often: a history is mostly work, commits, uploads and purges.
# `feature`/`retire` add or remove a task and commit; `add`/`remove` leave the change uncommitted.
WEIGHTS = {"feature": 3, "retire": 2, "add": 1, "remove": 1, "commit": 1, "push": 2, "pull": 2, "upload": 3,
           "purge": 3, "edit": 1, "hide_layer": 1, "show_layer": 1, "other_project_upload": 1}
KINDS = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]


def _action(kind: str):
    if kind in ("add", "remove", "feature", "retire"):
        return st.tuples(st.just(kind), st.sampled_from(CLONES), st.integers(0, NAMES - 1))
    if kind == "edit":
        return st.tuples(st.just(kind), st.integers(0, NAMES))
    if kind == "other_project_upload":
        return st.just((kind,))
    return st.tuples(st.just(kind), st.sampled_from(CLONES))


ACTIONS = st.sampled_from(KINDS).flatmap(_action)


@dataclass
class Upload:
    commit: str
    committed: bool          # the task's file was in that commit (else: uncommitted work)


@dataclass
class World:
    prefix: str
    root: Path
    clones: dict[str, Path] = field(default_factory=dict)
    other: Path | None = None
    uploads: dict[str, Upload] = field(default_factory=dict)   # name -> its last upload, by our own record
    edited: set[str] = field(default_factory=set)              # edited on the server since its last upload
    deleted: list[str] = field(default_factory=list)

    def name(self, index: int) -> str:
        return f"{self.prefix}p{index}" if index < NAMES else f"{self.prefix}v0"

    def task_file(self, clone: str, name: str) -> Path:
        folder = "vendor/tasks" if name.endswith("v0") else "idflow/tasks"
        return self.clones[clone] / folder / name / f"{name}.py"


def _make_world(conductor_url: str) -> World:
    prefix = f"h{uuid.uuid4().hex[:8]}_"
    world = World(prefix, Path(tempfile.mkdtemp(prefix="idflow-history-")))
    seed = init_repo(world.root / "seed")
    (seed / "config").mkdir()
    (seed / "config" / "idflow.yml").write_text(
        f"conductor_server_url: {conductor_url}\nproject: {prefix}team\ntasks_dirs: [vendor/tasks, idflow/tasks]\n")
    (seed / "idflow" / "tasks").mkdir(parents=True)
    (seed / "idflow" / "tasks" / ".keep").touch()
    vendor = world.name(NAMES)
    (seed / "vendor" / "tasks" / vendor).mkdir(parents=True)
    (seed / "vendor" / "tasks" / vendor / f"{vendor}.py").write_text(task_source(vendor, retry_count=1))
    commit_all(seed, "seed")
    origin = world.root / "origin.git"
    git(world.root, "clone", "-q", "--bare", str(seed), str(origin))
    for name in CLONES:
        world.clones[name] = clone(origin, world.root / name)
    other = init_repo(world.root / "other")
    (other / "config").mkdir()
    (other / "config" / "idflow.yml").write_text(f"conductor_server_url: {conductor_url}\nproject: {prefix}other\n")
    for index in range(2):
        name = f"{prefix}q{index}"
        (other / "idflow" / "tasks" / name).mkdir(parents=True)
        (other / "idflow" / "tasks" / name / f"{name}.py").write_text(task_source(name, retry_count=3))
    commit_all(other, "other project")
    world.other = other
    return world


def _declared(world: World, clone: str, *, at_head: bool) -> set[str]:
    root = world.clones[clone]
    if at_head:
        listed = git(root, "ls-tree", "-r", "--name-only", "HEAD")
        return {Path(p).stem for p in listed.splitlines() if p.endswith(".py")}
    return {p.stem for folder in ("idflow/tasks", "vendor/tasks") for p in (root / folder).glob("*/*.py")}


def _cli(capsys, root: Path, *argv: str):
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return run_cli(capsys, *argv)
    finally:
        os.chdir(cwd)


def _step(world: World, action: tuple, capsys, client) -> None:
    kind = action[0]
    if kind in ("feature", "retire"):
        _step(world, ("add" if kind == "feature" else "remove", *action[1:]), capsys, client)
        commit_all(world.clones[action[1]], kind)
    elif kind in ("add", "remove"):
        name = world.name(action[2])
        path = world.task_file(action[1], name)
        if kind == "add":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(task_source(name, retry_count=2))
        elif path.parent.exists():
            shutil.rmtree(path.parent)
    elif kind == "commit":
        commit_all(world.clones[action[1]], "work")
    elif kind == "push":
        subprocess.run(["git", "push", "-q", "origin", "HEAD:main"], cwd=world.clones[action[1]], capture_output=True)
    elif kind == "pull":
        root = world.clones[action[1]]
        commit_all(root, "before pull")
        git(root, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main")
    elif kind == "hide_layer":
        shutil.rmtree(world.clones[action[1]] / "vendor", ignore_errors=True)
    elif kind == "show_layer":
        subprocess.run(["git", "checkout", "-q", "HEAD", "--", "vendor"], cwd=world.clones[action[1]],
                       capture_output=True)
    elif kind == "edit":
        name = world.name(action[1])
        copy = next((d for d in client.list_taskdefs() if d.get("name") == name), None)
        if copy is not None:
            copy["retryCount"] = int(copy.get("retryCount") or 0) + 5
            client.upsert_taskdefs([copy])
            world.edited.add(name)
    elif kind == "other_project_upload":
        assert _cli(capsys, world.other, "tasks", "upload", "--all", "--json").code == 0
    elif kind == "upload":
        _upload(world, action[1], capsys)
    elif kind == "purge":
        _purge(world, action[1], capsys)


def _upload(world: World, clone: str, capsys) -> None:
    root = world.clones[clone]
    done = _cli(capsys, root, "tasks", "upload", "--all", "--json")
    if done.code != 0:  # refused (a server edit) or invalid (a hidden layer): nothing written
        return
    head = git(root, "rev-parse", "HEAD")
    at_head = _declared(world, clone, at_head=True)
    status = git(root, "status", "--porcelain", "--untracked-files=all")
    for name in done.json["created"] + done.json["updated"]:
        dirty = f"/{name}/" in status
        world.uploads[name] = Upload(head, committed=name in at_head and not dirty)
        world.edited.discard(name)


def _purge(world: World, clone: str, capsys) -> None:
    root = world.clones[clone]
    layer_hidden = not (root / "vendor" / "tasks").is_dir()
    done = _cli(capsys, root, "tasks", "purge", "--orphaned", "-y", "--json")
    if done.code != 0:
        assert done.code == 3, done.err  # refused for safety, never an error
        return
    deleted = done.json["deleted"]
    assert not (deleted and layer_hidden), f"purged {deleted} while a layer was missing"
    head = git(root, "rev-parse", "HEAD")
    here = _declared(world, clone, at_head=False) | _declared(world, clone, at_head=True)
    for name in deleted:
        assert name.startswith(world.prefix + "p") or name == world.name(NAMES), f"{name} is not this project's"
        upload = world.uploads.get(name)
        assert upload is not None, f"{name} was deleted but this history never uploaded it"
        assert upload.committed, f"{name} came from uncommitted work, yet {clone} deleted it"
        behind = subprocess.run(["git", "merge-base", "--is-ancestor", upload.commit, head], cwd=root).returncode
        assert behind == 0, f"{name} was uploaded from {upload.commit[:10]}, which {clone} has not seen"
        assert name not in here, f"{clone}'s own code still declares {name}"
        assert name not in world.edited, f"{name} was edited on the server since its upload"
        world.uploads.pop(name)
    world.deleted += deleted


def _cleanup(world: World, client) -> None:
    for definition in client.list_taskdefs():
        if str(definition.get("name", "")).startswith(world.prefix):
            client.delete_taskdef(definition["name"])
    shutil.rmtree(world.root, ignore_errors=True)


EXAMPLES = int(os.environ.get("IDFLOW_HISTORY_EXAMPLES", "12"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=st.lists(ACTIONS, min_size=6, max_size=18))
def test_purge_never_deletes_what_is_someones(history, conductor_url, client, capsys, monkeypatch):
    for variable in PROJECT_ENV:
        monkeypatch.delenv(variable, raising=False)
    world = _make_world(conductor_url)
    try:
        # Every history starts from a team that has shipped: a committed, pushed, uploaded task.
        for action in [("feature", "a", 0), ("feature", "a", 1), ("push", "a"), ("upload", "a"),
                       ("pull", "b"), ("other_project_upload",), *history, ("purge", "a"), ("purge", "b")]:
            _step(world, action, capsys, client)
    finally:
        _cleanup(world, client)
