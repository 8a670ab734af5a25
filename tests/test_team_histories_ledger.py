"""A property over random team histories, on the real server, for the kinds with no stamp: workflow versions
(`idflow workflows ...`) and event handlers (`idflow events ...`), whose ownership rests on the project's ledger
and this clone's Git history (idflow.provenance.seen).

A history is a random sequence of what a team does: two clones "a" and "b" of one project (with a bare origin)
add, remove and change objects, commit, push, pull (merging; a conflict is aborted, or resolved keeping ours),
upload (sometimes overwriting server edits), purge orphans, and people edit objects on the server directly.

After every `purge --orphaned` in clone X, each object it deleted must, by the test's own record of the history
(never idflow's reasoning), satisfy: (1) this project's last write of it came from a commit that X's HEAD is or
descends from; (2) the server held exactly what that write put there (no server edit since); (3) that content
was committed: some commit in X's first-parent history held exactly it; (4) neither X's working tree nor X's HEAD
defines it. Liveness: an object that satisfies all four, which nothing uses, is deleted. The same is checked
of a `--dry-run` plan after each step, in each clone the step touched, so every state in a history is judged.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.clihelp import PROJECT_ENV
from tests.eventhelp import handler, handler_prefix  # noqa: F401  (a fixture)
from tests.gitrepo import clone, commit_all, git, init_bare
from tests.test_team_edges import cli, make_project

pytestmark = [pytest.mark.server, pytest.mark.slow]

NAMES = 3
CLONES = ("a", "b")
FOLDER = "idflow/workflows"
HANDLERS = f"{FOLDER}/event_handlers.json"
# `feature`/`retire`/`rework` add, remove or change an object and commit; `add`/`remove`/`change` leave it uncommitted.
WEIGHTS = {"feature": 2, "retire": 2, "rework": 1, "add": 1, "remove": 1, "change": 1, "commit": 1, "push": 2,
           "pull": 2, "upload": 3, "purge": 3, "edit": 1}
KINDS = [kind for kind, weight in WEIGHTS.items() for _ in range(weight)]
WAIT = {"name": "wait", "taskReferenceName": "wait", "type": "WAIT"}
EXAMPLES = int(os.environ.get("IDFLOW_HISTORY_EXAMPLES", "25"))


def _action(kind: str):
    clone_ = st.sampled_from(CLONES)
    index = st.integers(0, NAMES - 1)
    if kind in ("add", "change", "feature", "rework"):
        return st.tuples(st.just(kind), clone_, index, st.integers(0, 2))   # a few contents, so they recur
    if kind in ("remove", "retire"):
        return st.tuples(st.just(kind), clone_, index)
    if kind == "edit":   # someone edits it in the UI: to something new, or to what some commit holds
        return st.tuples(st.just(kind), index, st.sampled_from(["edited", "rev0", "rev1", "rev2"]))
    if kind in ("upload", "pull"):   # upload: overwrite server edits; pull: on a conflict, merge keeping ours
        return st.tuples(st.just(kind), clone_, st.sampled_from([False, False, True]))
    return st.tuples(st.just(kind), clone_)


ACTIONS = st.sampled_from(KINDS).flatmap(_action)


@dataclass
class World:
    kind: str                      # "workflows" or "events"
    names: list[str]
    root: Path
    project: str
    clones: dict[str, Path] = field(default_factory=dict)
    written: dict[str, tuple[str, str]] = field(default_factory=dict)   # name -> (HEAD, content) of its last write
    edits: int = 0

    def content(self, name: str, tag: str) -> str:   # the one field that varies: description, or event
        return tag if self.kind == "workflows" else f"conductor:{name}:{tag}"

    def paths(self) -> list[str]:
        return [f"{FOLDER}/{n}.json" for n in self.names] if self.kind == "workflows" else [HANDLERS]


def _parse(text: str) -> dict[str, str]:
    """{name: content} of one workflow file or one handlers file."""
    data = json.loads(text)
    return {data["name"]: data["description"]} if isinstance(data, dict) else {h["name"]: h["event"] for h in data}


def _tree(world: World, clone_: str) -> dict[str, str]:
    files = [world.clones[clone_] / path for path in world.paths()]
    return {name: content for file in files if file.exists() for name, content in _parse(file.read_text()).items()}


def _at_commits(world: World, clone_: str, commits: list[str]) -> dict[str, dict[str, str]]:
    """{commit: {name: content}} read from Git with one `cat-file --batch` of "commit:path" requests."""
    asked = [(c, p) for c in commits for p in world.paths()]
    out = subprocess.run(["git", "cat-file", "--batch"], cwd=world.clones[clone_], capture_output=True, check=True,
                         input="".join(f"{c}:{p}\n" for c, p in asked).encode()).stdout
    held: dict[str, dict[str, str]] = {c: {} for c in commits}
    position = 0
    for commit, _ in asked:
        end = out.index(b"\n", position)
        header, position = out[position:end].split(), end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        held[commit].update(_parse(out[position:position + size].decode()))
        position += size + 1
    return held


def _write(world: World, clone_: str, name: str, content: str | None) -> None:
    root = world.clones[clone_]
    if world.kind == "workflows":
        path = root / FOLDER / f"{name}.json"
        path.unlink(missing_ok=True)
        if content is not None:   # a WAIT system task: no TaskDef needed
            path.write_text(json.dumps({"name": name, "version": 1, "schemaVersion": 2, "description": content,
                                        "ownerEmail": "dev@example.org", "tasks": [WAIT]}, indent=2) + "\n")
        return
    path = root / HANDLERS
    handlers = [h for h in json.loads(path.read_text()) if h["name"] != name]
    handlers += [handler(name, content)] if content is not None else []
    path.write_text(json.dumps(sorted(handlers, key=lambda h: h["name"]), indent=2) + "\n")


def _server(world: World, client) -> dict[str, str]:
    if world.kind == "workflows":
        return {d["name"]: d.get("description") for d in client.list_workflows()
                if d.get("name") in world.names and d.get("version") == 1}
    return {h["name"]: h.get("event") for h in client.list_event_handlers() if h.get("name") in world.names}


def _edit_on_server(world: World, client, name: str, tag: str) -> None:
    """Someone edits the object in the UI (nothing, if it is not on the server)."""
    if name not in _server(world, client):
        return
    world.edits += 1
    value = world.content(name, f"edited{world.edits}" if tag == "edited" else tag)
    if world.kind == "workflows":
        client.upsert_workflows([{**client.get_workflow(name, 1), "description": value}])
    else:
        client.update_event_handler({**next(h for h in client.list_event_handlers() if h["name"] == name),
                                     "event": value})


def _ok(root: Path, *args: str) -> bool:
    try:
        return git(root, *args) is not None
    except subprocess.CalledProcessError:
        return False


def _pull(root: Path, keep_ours: bool) -> None:
    if _ok(root, "pull", "-q", "--no-rebase", "--no-edit", "origin", "main"):
        return
    _ok(root, "merge", "--abort")   # a conflict (or local changes in the way): abort, or resolve keeping ours
    if keep_ours and not _ok(root, "merge", "-q", "-s", "ours", "--no-edit", "FETCH_HEAD"):
        _ok(root, "merge", "--abort")


def _step(world: World, action: tuple, capsys, monkeypatch, client) -> None:
    kind, rest = action[0], action[1:]
    if kind in ("feature", "retire", "rework"):
        committed = {"feature": "add", "retire": "remove", "rework": "change"}[kind]
        _step(world, (committed, *rest), capsys, monkeypatch, client)
        commit_all(world.clones[rest[0]], kind)
    elif kind in ("add", "change", "remove"):
        clone_, name = rest[0], world.names[rest[1]]
        present = name in _tree(world, clone_)
        if (kind == "add") != present:   # add only what is absent; change and remove only what is there
            _write(world, clone_, name, None if kind == "remove" else world.content(name, f"rev{rest[2]}"))
    elif kind == "commit":
        commit_all(world.clones[rest[0]], "work")
    elif kind == "push":
        _ok(world.clones[rest[0]], "push", "-q", "origin", "HEAD:main")   # not a fast-forward: skipped
    elif kind == "pull":
        _pull(world.clones[rest[0]], rest[1])
    elif kind == "edit":
        _edit_on_server(world, client, world.names[rest[0]], rest[1])
    elif kind == "upload":
        _upload(world, rest[0], rest[1], capsys, monkeypatch)
    elif kind == "purge":
        _purge(world, rest[0], capsys, monkeypatch, client)


def _upload(world: World, clone_: str, overwrite: bool, capsys, monkeypatch) -> None:
    root = world.clones[clone_]
    head, tree = git(root, "rev-parse", "HEAD"), _tree(world, clone_)
    done = cli(capsys, monkeypatch, root, world.kind, "upload", "--all", "--json",
               *(["--overwrite-server-edits"] if overwrite else []))
    assert done.code in (0, 3), done.err   # 3: refused, it would revert a server edit
    doc = done.json if done.out.strip().startswith("{") else {}
    assert doc.get("ledger_problem") is None, doc
    for item in doc.get("created", []) + doc.get("updated", []):
        name = item["name"] if isinstance(item, dict) else item
        world.written[name] = (head, tree[name])


def _doubts(world: World, clone_: str, name: str, server: dict[str, str], held: dict[str, dict[str, str]],
            head: str, here: dict[str, str]) -> list[str]:
    """Why, by this test's record, `name` is not provably this project's and unwanted in `clone_` (empty: it is)."""
    if name not in world.written:
        return ["this project never wrote it (or its last write was deleted)"]
    commit, content = world.written[name]
    doubts = []
    if not _ok(world.clones[clone_], "merge-base", "--is-ancestor", commit, head):
        doubts.append(f"(1) written from {commit[:10]}, which {clone_}'s HEAD does not descend from")
    if server.get(name) != content:
        doubts.append(f"(2) the server holds {server.get(name)!r}, not {content!r} as written")
    if not any(held[c].get(name) == content for c in held):
        doubts.append(f"(3) no commit in {clone_}'s first-parent history held {content!r}")
    if name in here or name in held[head]:
        doubts.append(f"(4) {clone_}'s working tree or HEAD still defines it")
    return doubts


def _purge(world: World, clone_: str, capsys, monkeypatch, client, dry: bool = False) -> None:
    """Purge orphans in `clone_` (or plan it: `dry`) and check what goes, and what stays, against the record."""
    root = world.clones[clone_]
    head = git(root, "rev-parse", "HEAD")
    held = _at_commits(world, clone_, git(root, "rev-list", "--first-parent", "HEAD").split())
    server, here = _server(world, client), _tree(world, clone_)
    done = cli(capsys, monkeypatch, root, world.kind, "purge", "--orphaned", "-y", "--json", *(["--dry-run"] * dry))
    assert done.code in (0, 3), done.err   # 3: refused for safety, nothing deleted
    if done.code:
        return
    doc = done.json
    deleted = [d["name"] if isinstance(d, dict) else d for d in doc["would_delete" if dry else "deleted"]]
    for name in deleted:
        doubts = _doubts(world, clone_, name, server, held, head, here)
        assert not doubts, f"{clone_} {'would purge' if dry else 'purged'} {name}, yet: {doubts}"
    usage_unknown = doc.get("plan", {}).get("uncertain")   # workflows: some place picks its workflow at run time
    for name in sorted(set(world.written) - set(deleted)):
        if not usage_unknown and not _doubts(world, clone_, name, server, held, head, here):
            skipped = [s for s in doc["skipped"] if s["name"] == name]
            pytest.fail(f"{clone_} {'would keep' if dry else 'kept'} {name}, provably ours and unwanted: {skipped}")
    for name in deleted if not dry else []:
        world.written.pop(name)


def _make_world(kind: str, prefix: str, conductor_url: str) -> World:
    token = uuid.uuid4().hex[:6]
    world = World(kind, [f"{prefix}{token}_{i}" for i in range(NAMES)],
                  Path(tempfile.mkdtemp(prefix="idflow-ledger-history-")), f"{prefix}{token}_team")
    seed = make_project(world.root / "seed", conductor_url, world.project)
    (seed / FOLDER).mkdir(parents=True, exist_ok=True)
    (seed / (HANDLERS if kind == "events" else f"{FOLDER}/.keep")).write_text("[]\n" if kind == "events" else "")
    commit_all(seed, "seed")
    origin = init_bare(world.root / "origin.git")
    git(seed, "push", "-q", str(origin), "HEAD:main")
    for name in CLONES:
        world.clones[name] = clone(origin, world.root / name)
    return world


def _cleanup(world: World, client) -> None:
    from idflow.base.errors import ConductorError
    from idflow.engine.ledger import ledger_name

    for name in world.names:
        with suppress(ConductorError):
            client.delete_workflow(name, 1) if world.kind == "workflows" else client.delete_event_handler(name)
    with suppress(ConductorError):
        client.delete_taskdef(ledger_name(world.project, world.kind))
    shutil.rmtree(world.root, ignore_errors=True)


@pytest.mark.parametrize("kind", ["workflows", "events"])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=bool(os.environ.get("CI")),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=st.lists(ACTIONS, min_size=8, max_size=24))
def test_purge_deletes_only_what_this_clone_provably_retired(
        kind, history, conductor_url, client, prefix, handler_prefix, capsys, monkeypatch):
    for variable in PROJECT_ENV:
        monkeypatch.delenv(variable, raising=False)
    world = _make_world(kind, prefix if kind == "workflows" else handler_prefix, conductor_url)
    try:
        # Every history starts from a team that has shipped: two objects committed, pushed, uploaded, pulled by b.
        start = [("add", "a", 0, 0), ("add", "a", 1, 0), ("commit", "a"), ("push", "a"), ("upload", "a", False),
                 ("pull", "b", False)]
        for action in start:
            _step(world, action, capsys, monkeypatch, client)
        for action in [*history, ("purge", "a"), ("purge", "b")]:
            _step(world, action, capsys, monkeypatch, client)
            # and what each clone the step changed (or whose server it changed) would purge now
            for clone_ in CLONES if action[0] in ("upload", "purge", "edit") else (action[1],):
                _purge(world, clone_, capsys, monkeypatch, client, dry=True)
    finally:
        _cleanup(world, client)
