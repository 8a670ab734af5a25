"""What this clone's Git history has held of a kind with no stamp (workflow versions, event handlers).

A ledger (idflow.engine.ledger) says which objects a project wrote, the hash of each and the HEAD it was written
from. A clone behind another, or on another branch, lacks the newer clone's file, so on the ledger's hash alone it
would call the newer object orphaned and delete it. An object in no local file is ours and unwanted only when it
was written from a commit in this clone's history, this clone's history once held exactly the content the server
has (so it was not someone's uncommitted work), and HEAD holds it no more (the removal is committed).
`read_seen` gathers that in at most six Git calls (top level, HEAD, log, ls-tree, rev-list, one batched blob
read), parsing each file version once; `history_doubt` decides from it alone.
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from idflow.provenance.lineage import git_output

Hashes = Callable[[str, bytes], Iterable[tuple[str, str]]]   # (path, content) -> (key, hash) of each object in it


@dataclass(frozen=True)
class SeenInGit:
    """What this clone's Git history held of unstamped objects: every (key, hash) ever, the keys at HEAD, ancestry."""
    ever: frozenset[tuple[str, str]]      # (key, hash) some first-parent commit up to HEAD held
    at_head: frozenset[str]               # keys HEAD holds
    ancestors: frozenset[str] = frozenset()   # of the commits asked about, those HEAD descends from (or is)
    shallow: bool = False


def history_doubt(key: str, server_hash: str, seen: SeenInGit | None, commit: str | None) -> str | None:
    """Why an object the ledger names, unchanged since and in no local file, may still be someone's (None: ours
    and unwanted). `seen` None: this checkout is not in Git. `commit`: the HEAD the ledger says it was written
    from ("" outside Git; None: a ledger from before idflow recorded it, so the content alone decides)."""
    if seen is None:
        if not commit:
            return None   # written outside Git too: the working tree is the only history there is
        return (f"written from commit {commit[:10]}, and this checkout is not a Git repository, so idflow cannot "
                "tell whether whoever wrote it is newer (kept; delete it by name)")
    if key in seen.at_head:
        return "HEAD still defines it: the change that removes it is not committed (commit it first)"
    if commit == "":
        return "written from outside Git, and this checkout is in Git: idflow cannot tell whose it is (kept; " \
               "delete it by name)"
    if commit is not None and commit not in seen.ancestors:
        return (f"written from commit {commit[:10]}, which is not in this clone's history (a clone ahead, another "
                "branch): pull first (kept)" + (" (this is a shallow clone: fetch its history)" if seen.shallow
                                                 else ""))
    if (key, server_hash) not in seen.ever:
        return ("this clone's Git history never held it as the server has it: it was written from a commit this "
                "clone does not have (a clone ahead, another branch) or from uncommitted work (kept; pull first, "
                "or delete it by name)" + (" (this is a shallow clone: fetch its history)" if seen.shallow else ""))
    return None


def head_commit(path: Path) -> str:
    """The sha of HEAD of the Git work tree holding `path` ("" outside Git, or before the first commit)."""
    top = _toplevel(path)
    return "" if top is None else (_git(top[0], "rev-parse", "--verify", "--quiet", "HEAD^{commit}") or "").strip()


def read_seen(directory: Path, is_source: Callable[[str], bool], hashes: Hashes,
              commits: Iterable[str] = ()) -> SeenInGit | None:
    """Every (key, hash) the files under `directory` that `is_source` accepts held in this clone's first-parent
    history, the keys they hold at HEAD, and which of `commits` HEAD descends from. None: not in a Git work
    tree (or the directory is outside it)."""
    top = _toplevel(directory)
    if top is None:
        return None
    root, shallow = top
    try:
        scope = directory.resolve().relative_to(root).as_posix()
    except ValueError:
        return None
    if _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}") is None:
        return SeenInGit(frozenset(), frozenset(), frozenset(), shallow)   # no commit yet: nothing was committed
    log = _git(root, "log", "--first-parent", "--raw", "--no-renames", "--no-abbrev", "-z", "--format=", "--", scope)
    head = _git(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD", "--", scope)
    wanted = {c for c in commits if c}
    history = (_git(root, "rev-list", "HEAD") if wanted else "") or ""
    if log is None or head is None:   # a Git that cannot answer proves nothing: everything is kept
        return SeenInGit(frozenset(), frozenset(), frozenset(), shallow)
    ever_blobs = {(path, blob) for path, blob in _raw_entries(log) if blob and is_source(path)}
    head_blobs = {(path, blob) for path, blob in tree_blobs(head) if is_source(path)}
    contents = _read_blobs(root, sorted({blob for _, blob in ever_blobs | head_blobs}))
    held = {(path, blob): list(hashes(path, contents[blob])) for path, blob in ever_blobs | head_blobs
            if blob in contents}   # a path matters too: its suffix says JSON or YAML
    ever = {pair for pairs in held.values() for pair in pairs}
    at_head = {key for path_blob in head_blobs for key, _ in held.get(path_blob, ())}
    return SeenInGit(frozenset(ever), frozenset(at_head), frozenset(wanted & set(history.split())), shallow)


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _toplevel(path: Path) -> tuple[Path, bool] | None:
    out = _git(_existing(path.absolute()), "rev-parse", "--show-toplevel", "--is-shallow-repository")
    if not out:
        return None
    top, shallow = (out.splitlines() + ["false"])[:2]
    return Path(top).resolve(), shallow.strip() == "true"


def _raw_entries(log: str) -> list[tuple[str, str]]:
    """(path, blob after) of each `--raw -z` entry; blob "" for a deletion."""
    parts = [p.strip("\n") for p in log.split("\0") if p.strip("\n")]
    entries = []
    for meta, path in zip(parts[0::2], parts[1::2]):
        fields = meta.lstrip(":").split()
        if len(fields) >= 5:
            entries.append((path, "" if fields[4] == "D" else fields[3]))
    return entries


def tree_blobs(listing: str) -> list[tuple[str, str]]:
    """(path, blob) of each file in a `git ls-tree -r -z` listing."""
    entries = []
    for entry in filter(None, listing.split("\0")):
        meta, path = entry.split("\t", 1)
        _, kind, blob = meta.split()
        if kind == "blob":
            entries.append((path, blob))
    return entries


def _read_blobs(root: Path, blobs: list[str]) -> dict[str, bytes]:
    """{blob: content}, from one `git cat-file --batch`."""
    if not blobs:
        return {}
    try:
        done = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input="".join(b + "\n" for b in blobs).encode(),
                              capture_output=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    out, position, contents = done.stdout, 0, {}
    for blob in blobs:
        end = out.find(b"\n", position)
        if end < 0:
            break   # cut short: what is missing stays unseen, so its objects are kept
        header = out[position:end].split()
        position = end + 1
        if len(header) < 3 or header[1] != b"blob":
            continue
        size = int(header[2])
        contents[blob] = out[position:position + size]
        position += size + 1
    return contents


def _git(cwd: Path, *args: str) -> str | None:
    return git_output(cwd, *args, strip=False, timeout=120)   # a long history's log may take a while
