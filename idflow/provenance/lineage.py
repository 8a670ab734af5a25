"""Is a stamp behind this checkout? What Git says about the commits and files that stamps name.

An owned definition that no local file declares is *ours and unwanted* only when its
stamped commit is an ancestor of HEAD and its task is gone at HEAD. Anything less is
*uncertain*: a commit this checkout lacks (someone ahead of us, another branch, CI), a
stamp from uncommitted work whose task this checkout never had, or a deletion that is
not committed yet. `read_lineage` gathers the facts in a fixed number of Git calls;
`unproven` decides from them alone.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from idflow.provenance.trailer import Provenance

# Up to this many distinct commits are checked one `merge-base` each; more, and one rev-list of HEAD.
MERGE_BASE_CALLS = 8
PATHSPECS = 200


@dataclass(frozen=True)
class Lineage:
    """Facts about the commits and paths some stamps name, as this checkout's Git sees them."""

    available: bool                                     # a Git repository with a HEAD
    head: str | None = None
    known: frozenset[str] = frozenset()                 # commits this repository has
    ancestors: frozenset[str] = frozenset()             # of those, the ones HEAD descends from (HEAD included)
    at_head: frozenset[str] = frozenset()               # repo-relative paths present at HEAD
    dirty: frozenset[str] = frozenset()                 # repo-relative paths with uncommitted changes
    had: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)  # (sha, path, name): file at sha names it
    shallow: bool = False


def short(sha: str) -> str:
    return sha[:10]


def unproven(name: str, stamp: Provenance, lineage: Lineage) -> str | None:
    """Why an owned definition in no local file may still be someone's (None: ours and unwanted)."""
    if stamp.sha is None:
        if not lineage.available:
            return None  # outside Git on both sides: the working tree is the only history there is
        return ("uploaded from outside Git (its stamp names no commit), so idflow cannot tell whether this "
                "checkout is newer; delete it by name")
    commit = short(stamp.sha)
    if not lineage.available:
        return (f"uploaded from commit {commit}, and this checkout is not a Git repository, so idflow cannot tell "
                "whether it is newer; delete it by name")
    if stamp.sha not in lineage.known:
        return (f"uploaded from commit {commit}, which this checkout does not have: fetch/pull first"
                + (" (this is a shallow clone: fetch its history)" if lineage.shallow else ""))
    if stamp.sha not in lineage.ancestors:
        return (f"uploaded from commit {commit}, which is not in this checkout's history (another branch, or ahead "
                "of HEAD): pull or merge first")
    if stamp.dirty and (stamp.sha, stamp.path, name) not in lineage.had:
        return (f"uploaded from uncommitted work on top of commit {commit}, and this checkout never had its task "
                f"({stamp.path}): it may be someone's work in progress")
    if stamp.path in lineage.at_head and stamp.path in lineage.dirty:
        return (f"its file {stamp.path} still declares it at HEAD; the change that removes it is not committed: "
                "commit it first")
    return None


def read_lineage(start: Path, stamps: Iterable[tuple[str, Provenance]]) -> Lineage:
    """The facts `unproven` needs about `stamps` ((name, stamp) pairs), from the repository holding `start`."""
    stamps = [(name, s) for name, s in stamps if s.sha is not None]
    head = git_output(start, "rev-parse", "--show-toplevel", "HEAD")
    if head is None:
        return Lineage(available=False)
    root, head_sha = head.splitlines()[:2]
    if not stamps:
        return Lineage(available=True, head=head_sha)
    shas = sorted({s.sha for _, s in stamps if s.sha})
    paths = sorted({s.path for _, s in stamps if s.path})
    present = _objects_exist(root, [f"{sha}^{{commit}}" for sha in shas] + [f"HEAD:{p}" for p in paths])
    known = frozenset(sha for sha in shas if present.get(f"{sha}^{{commit}}"))
    at_head = frozenset(p for p in paths if present.get(f"HEAD:{p}"))
    dirty_stamps = [(name, s) for name, s in stamps if s.dirty and s.sha in known]
    return Lineage(available=True, head=head_sha, known=known, ancestors=_ancestors(root, known, head_sha),
                   at_head=at_head, dirty=_dirty(root, paths), had=_had(root, dirty_stamps),
                   shallow=git_output(root, "rev-parse", "--is-shallow-repository") == "true")


def git_output(cwd: Path | str, *args: str, stdin: str | None = None, strip: bool = True,
               timeout: float = 60) -> str | None:
    """What `git ARGS` prints in `cwd` (paths taken literally; bytes that are not UTF-8 kept as surrogates), or
    None when it fails, cannot start or outlasts `timeout`."""
    try:
        done = subprocess.run(["git", "--literal-pathspecs", *args], cwd=cwd, input=stdin, capture_output=True,
                              encoding="utf-8", errors="surrogateescape", timeout=timeout,
                              stdin=None if stdin is not None else subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    return done.stdout.strip() if strip else done.stdout


def _objects_exist(root: str, names: list[str]) -> dict[str, bool]:
    """{object name: exists}, from one `git cat-file --batch-check`."""
    if not names:
        return {}
    answer = git_output(root, "cat-file", "--batch-check", stdin="".join(n + "\n" for n in names)) or ""
    lines = answer.splitlines()
    if len(lines) != len(names):  # an unexpected answer proves nothing exists
        return {}
    return {name: not line.endswith(" missing") and not line.endswith(" ambiguous")
            for name, line in zip(names, lines)}


def _ancestors(root: str, known: frozenset[str], head: str) -> frozenset[str]:
    if len(known) <= MERGE_BASE_CALLS:
        found = set()
        for sha in known:
            done = subprocess.run(["git", "merge-base", "--is-ancestor", sha, head], cwd=root,
                                  capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
            if done.returncode == 0:
                found.add(sha)
        return frozenset(found)
    history = set((git_output(root, "rev-list", head) or "").split())
    return frozenset(known & history)


def _dirty(root: str, paths: list[str]) -> frozenset[str]:
    """Which of `paths` differ from HEAD in the index or the working tree (deleted ones included)."""
    if not paths:
        return frozenset()
    # A few paths are named (fast in a large tree); many would make a command line of megabytes.
    named = ("--", *paths) if len(paths) <= PATHSPECS else ()
    answer = git_output(root, "status", "--porcelain", "-z", "--untracked-files=no", *named, strip=False)
    entries = (answer or "").split("\0")
    return frozenset(e[3:] for e in entries if len(e) > 3) & frozenset(paths)


def _had(root: str, stamps: list[tuple[str, Provenance]]) -> frozenset[tuple[str, str, str]]:
    """(sha, path, name) for each dirty stamp whose file, at its commit, mentions the task's name."""
    if not stamps:
        return frozenset()
    specs = [f"{s.sha}:{s.path}" for _, s in stamps]
    try:
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=root, capture_output=True, timeout=60,
                              input="".join(spec + "\n" for spec in specs).encode())
    except (OSError, subprocess.TimeoutExpired):
        return frozenset()
    blobs, data = [], done.stdout
    while data:
        header, _, data = data.partition(b"\n")
        if header.endswith(b" missing") or header.endswith(b" ambiguous") or not header:
            blobs.append(b"")
            continue
        size = int(header.rsplit(b" ", 1)[-1])
        blobs.append(data[:size])
        data = data[size + 1:]
    return frozenset((s.sha, s.path, name) for (name, s), blob in zip(stamps, blobs)
                     if name.encode() in blob)
