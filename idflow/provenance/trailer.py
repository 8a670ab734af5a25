"""Where a definition came from: Git commit, dirty flag, file, content hash, time.

Conductor OSS has no tags on TaskDefs, and the fields that look free are not:
`inputTemplate` is merged into every task's input and `runtimeMetadata` names
secrets the server resolves at poll time. `description` is the one field that
survives a round trip on every server and changes nothing about how a task runs,
so provenance is a trailer appended to it: a marker line followed by compact JSON.
The trailer is also idflow's "managed" marker, and a diff never compares it.
"""
from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import subprocess
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from idflow.model.fields import ALWAYS_OWNED, PROVENANCE_MARKER, owned_fields, owned_view, strip_provenance


@dataclass(frozen=True)
class Provenance:
    """The stamp idflow puts in a definition's description: commit, dirty flag, file, content hash, time, project."""
    sha: str | None          # full commit sha, None outside a Git repository
    dirty: bool              # the task's files had uncommitted changes
    path: str                # task file, relative to the repository root
    hash: str                # content hash of the owned fields
    at: str                  # upload time, UTC ISO 8601
    tool: str = "idflow"
    project: str | None = None  # which idflow project uploaded it: only its own orphans are purged
    fields: str | None = None   # the optional owned fields `hash` covers, comma-separated (None: an older stamp)
    taken_from: str | None = None  # the project that stamped it before an explicit --take-over

    @property
    def short(self) -> str:
        return (self.sha or "no-git")[:10] + ("+dirty" if self.dirty else "")


OPTIONAL_KEYS = ("fields", "taken_from")  # left out of a stamp when unset


def content_hash(wire: dict[str, Any], fields: tuple[str, ...] | None = None) -> str:
    """Hash of the owned view of `wire` over `fields` (default: the fields idflow owns for `wire`)."""
    view = owned_view(wire, fields or owned_fields(wire))
    return hashlib.sha256(json.dumps(view, sort_keys=True, default=str).encode()).hexdigest()[:16]


def optional_fields(owned: Iterable[str]) -> str:
    """The optional ones of a desired definition's owned fields (`owned_fields`), as a stamp records them."""
    return ",".join(f for f in owned if f not in ALWAYS_OWNED)


def base_fields(stamp: Provenance, desired: dict[str, Any]) -> tuple[str, ...]:
    """The fields the stamp's hash covers: recorded in the stamp, else (older stamps) today's."""
    if stamp.fields is None:
        return owned_fields(desired)
    return ALWAYS_OWNED + tuple(f for f in stamp.fields.split(",") if f)


def stamp(description: str | None, provenance: Provenance) -> str:
    """`description` with the provenance trailer (replacing any earlier one)."""
    data = {k: v for k, v in asdict(provenance).items() if v is not None or k not in OPTIONAL_KEYS}
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return strip_provenance(description) + PROVENANCE_MARKER + payload


def parse_provenance(description: str | None) -> Provenance | None:
    text = description or ""
    index = text.rfind(PROVENANCE_MARKER)
    if index < 0:
        return None
    return _parse_stamp(text[index + len(PROVENANCE_MARKER):])


@lru_cache(maxsize=16384)  # a plan and the view of it read the same stamps; a Provenance is frozen
def _parse_stamp(payload: str) -> Provenance | None:
    try:
        data = json.loads(payload)
        get = data.get
        found = Provenance(get("sha"), get("dirty"), get("path"), get("hash"), get("at"), get("tool", "idflow"),
                           get("project"), get("fields"), get("taken_from"))
    except (ValueError, TypeError, AttributeError):  # not JSON, or JSON but not an object
        return None
    for value in (found.sha, found.path, found.hash, found.at, found.tool, found.project, found.fields,
                  found.taken_from):
        if value is not None and not isinstance(value, str):
            return None  # not our stamp
    return found


@dataclass(frozen=True)
class GitState:
    """The checkout an upload runs from: the repository root, HEAD's sha, and the paths with uncommitted changes."""
    root: Path | None
    sha: str | None
    dirty_paths: frozenset[str]   # repo-relative posix paths with uncommitted changes (incl. untracked)

    @property
    def available(self) -> bool:
        return self.sha is not None


GIT_STATE_COMMANDS = (("rev-parse", "--show-toplevel", "HEAD"),
                      ("status", "--porcelain", "-z", "--untracked-files=all"))


def git_state(start: Path) -> GitState:
    """The repository containing `start`: HEAD sha and every path with uncommitted changes.

    Two `git` commands, as GitPython ran them, without importing GitPython (~0.1 s, more than both),
    run at once: the porcelain status names paths from the repository's root wherever it runs.
    Not a repository, no commit yet, no `git`, or a status Git cannot give: no state (nothing vouched for)."""
    with GitStateReading(start) as reading:
        return reading.result()


class GitStateReading:
    """`git_state`'s two commands, started now and read by `result()`: on a no-op upload of 1,000 tasks they
    take as long as a tenth of the run, and run on the other core while discovery reads the files. Leaving the
    block kills what is still running."""

    def __init__(self, start: Path) -> None:
        self._running = _start_git(start, *GIT_STATE_COMMANDS)
        self._state: GitState | None = None

    def __enter__(self) -> "GitStateReading":
        return self

    def __exit__(self, *exc: object) -> None:
        for process in self._running:
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate()

    def result(self) -> GitState:
        if self._state is None:
            self._state = _read_git_state(*_finish_git(self._running))
        return self._state


def _read_git_state(found: str | None, status: str | None) -> GitState:
    nothing = GitState(None, None, frozenset())
    lines = found.split("\n") if found is not None else []
    if len(lines) < 2 or not _SHA.fullmatch(lines[1]):
        return nothing
    root = Path(lines[0])
    if status is None:
        return nothing
    dirty = set()
    entries = iter(status.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        dirty.add(path)
        if "R" in code or "C" in code:
            dirty.add(next(entries, ""))
    return GitState(root, lines[1], frozenset(dirty))


_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


def _start_git(cwd: Path, *commands: tuple[str, ...]) -> list[subprocess.Popen | None]:
    """Each `git COMMAND` started in `cwd`, side by side (None: one that could not start)."""
    running: list[subprocess.Popen | None] = []
    for args in commands:
        try:
            running.append(subprocess.Popen(["git", *args], cwd=cwd, stdin=subprocess.DEVNULL,
                                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL))
        except (OSError, ValueError):
            running.append(None)
    return running


def _finish_git(running: list[subprocess.Popen | None]) -> list[str | None]:
    """What each started command printed (None: one that failed)."""
    outputs: list[str | None] = []
    for process in running:
        if process is None:
            outputs.append(None)
            continue
        try:
            out, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            outputs.append(None)
            continue
        outputs.append(os.fsdecode(out).rstrip("\n") if process.returncode == 0 else None)
    return outputs


def provenance_for(tasks: Iterable[Any], state: GitState, now: str | None = None,
                   project: str | None = None) -> dict[str, Provenance]:
    """Provenance to stamp on each discovered task (DiscoveredTask-like objects).

    Paths are mapped to the repository with string arithmetic from one resolved base:
    resolving thousands of paths one by one costs more than the rest of a no-op upload.
    """
    at = now or datetime.now(timezone.utc).isoformat(timespec="seconds")
    base = None
    if state.root is not None:
        try:
            base = Path.cwd().resolve().relative_to(state.root.resolve()).as_posix()
        except ValueError:
            base = None
    dirty_dirs = {parent for p in state.dirty_paths for parent in _ancestors(p)}
    outside = _outside_repository(state.root)
    layer_states: dict[str, GitState] = {}
    result = {}
    for task in tasks:
        rel, rel_dir, sha = task.path, None, state.sha
        if base is not None and not posixpath.isabs(task.path):
            rel = posixpath.normpath(posixpath.join(base, task.path))
            rel_dir = posixpath.normpath(posixpath.join(base, task.task_dir))
        # Files reached through a symlink out of the repository are in no commit: never "clean"...
        linked_out = outside(task)
        dirty = rel_dir is not None and (rel_dir in dirty_dirs or rel_dir in state.dirty_paths) or linked_out
        if linked_out:  # ...unless they lie in a clean checkout of their own, whose commit the stamp records
            own = layer_state(getattr(task, "layer", "") or task.task_dir, layer_states)
            inside = own.root is not None and _relative(task.path, own.root)
            if own.available and not own.dirty_paths and inside:
                rel, sha, dirty = inside, own.sha, False
        owned = owned_fields(task.task_def)  # once for both: the hash covers them, the stamp names the optional ones
        result[task.name] = Provenance(sha=sha, dirty=dirty, path=rel, hash=content_hash(task.task_def, owned), at=at,
                                       project=project, fields=optional_fields(owned))
    return result


def layer_state(layer: str, cache: dict[str, GitState]) -> GitState:
    """The Git state of the repository holding a task layer outside the project's (one read per layer)."""
    if layer not in cache:
        cache[layer] = git_state(Path(layer))
    return cache[layer]


def _relative(path: str, root: Path) -> str | None:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def outside_repository(tasks: Iterable[Any], state: GitState) -> list[str]:
    """Names of tasks whose files lie outside the repository (through a symlink): Git cannot vouch for them."""
    outside = _outside_repository(state.root)
    return [t.name for t in tasks if state.root is not None and outside(t)]


def _outside_repository(root: Path | None):
    """A test for tasks reached through a symlink leading out of `root`: no system call per task when discovery
    says which are links, else one lstat each."""
    if root is None:
        return lambda task: False
    real_root = root.resolve()
    resolved: dict[str, bool] = {}

    def leaves(path: str) -> bool:
        if path not in resolved:
            resolved[path] = not Path(path).resolve().is_relative_to(real_root)
        return resolved[path]

    def outside(task: Any) -> bool:
        task_dir = task.task_dir or "."
        parent = posixpath.dirname(task_dir.rstrip("/")) or "."
        linked = getattr(task, "through_link", None)   # what discovery's walk saw, else one lstat each
        if linked is None:
            linked = os.path.islink(task_dir) or os.path.islink(task.path)
        if linked:
            return leaves(task_dir) or leaves(task.path)
        return leaves(parent)  # the tasks dir itself, or a folder above it, may be the link

    return outside


def _ancestors(path: str) -> list[str]:
    parts = path.rstrip("/").split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]
