"""Task definitions as they were at any Git revision: history and rollback sources.

Everything is read from Git objects, never from the working tree, so a rollback
leaves the checkout untouched. History replays `git log --raw` over the task's
directory (one git process) and rebuilds the definition only when a blob changed,
so 500 commits cost one log, one batched blob read and a few hundred AST parses.
"""
from __future__ import annotations

from binascii import unhexlify
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import git

from idflow.model import fields as taskdef
from idflow.base.errors import IdflowError
from idflow.discovery import discover_sources
from idflow.provenance.seen import tree_blobs


@dataclass(frozen=True)
class Commit:
    """One Git commit as a history shows it: sha, author, date and subject."""
    sha: str
    author: str
    date: str
    subject: str


@dataclass(frozen=True)
class HistoryEntry:
    """One commit in a task's history: its definition there (None: deleted) and the fields that changed."""
    commit: Commit
    task_def: dict[str, Any] | None               # None: the task did not exist (deleted) at this commit
    changes: tuple[tuple[str, Any, Any], ...] = ()  # (field, before, after)


@dataclass
class GitTree:
    """A repository and where the tasks dir sits inside it."""

    repo: Any
    root: Path
    tasks_rel: str              # tasks dir relative to the repo root, posix
    shallow: tuple[str, ...] = ()  # a shallow clone's boundary commits: history stops there

    def resolve(self, rev: str) -> str:
        """Full sha of `rev`, as git itself reads it (reflog `@{-1}`, `HEAD@{2}` included)."""
        if not rev or rev.startswith("-") or "\0" in rev:
            raise IdflowError(f"{rev!r} is not a Git revision", hint="use a commit sha, tag or branch name")
        try:
            return self.repo.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").strip()
        except git.GitCommandError:
            pass
        if self.shallow:
            raise IdflowError(f"Git revision {rev!r} is not in this clone: it is shallow, so its history stops at "
                              f"{', '.join(s[:10] for s in self.shallow)}",
                              hint="fetch the rest of the history ('git fetch --unshallow'), then try again") from None
        raise IdflowError(f"unknown Git revision {rev!r}",
                          hint="use a commit sha, tag or branch name; reflog entries (@{-1}, HEAD@{2}) exist only "
                               "in the clone that made them") from None

    def task_dir_rel(self, task_dir: Path) -> str:
        """A local task dir relative to the tasks dir in Git; refuses one Git cannot hold (a symlink outside)."""
        target = task_dir.resolve()
        try:
            return target.relative_to(self.root / self.tasks_rel).as_posix()
        except ValueError:
            raise IdflowError(f"{task_dir} is a symlink to {target}, outside the repository at {self.root}: Git holds "
                              "only the link, not the task files, so their history cannot be read from Git",
                              hint="move the task into the repository (or make it a submodule) to get history "
                                   "and rollback") from None


def open_tree(tasks_dir: Path) -> GitTree:
    try:
        repo = git.Repo(tasks_dir if tasks_dir.exists() else Path.cwd(), search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError):
        raise IdflowError(f"{tasks_dir} is not inside a Git repository",
                          hint="history and rollback read task files from Git") from None
    root = Path(repo.working_tree_dir or repo.git_dir).resolve()
    try:
        repo.head.commit
    except ValueError:
        raise IdflowError(f"the Git repository at {root} has no commits yet",
                          hint="commit the task files first: history and rollback read them from Git") from None
    try:
        rel = tasks_dir.resolve().relative_to(root).as_posix()
    except ValueError:
        raise IdflowError(f"{tasks_dir} resolves to {tasks_dir.resolve()}, outside the repository at {root}",
                          hint="history and rollback read task files from the repository's Git history") from None
    shallow_file = Path(repo.git_dir) / "shallow"
    shallow = tuple(shallow_file.read_text().split()) if shallow_file.is_file() else ()
    return GitTree(repo, root, "" if rel == "." else rel, shallow)


def symlinks_at(tree: GitTree, sha: str) -> list[str]:
    """Symlinks under the tasks dir at `sha`: Git stores only where they point, never the files there."""
    listing = tree.repo.git.ls_tree("-r", "-z", "--full-tree", sha, "--", tree.tasks_rel or ".")
    return [entry.split("\t", 1)[1] for entry in filter(None, listing.split("\0")) if entry.startswith("120000 ")]


def files_at(tree: GitTree, sha: str, subdir: str | None = None) -> list[tuple[str, bytes]]:
    """(repo-relative path, content) of every file under the tasks dir at `sha`."""
    prefix = subdir or tree.tasks_rel
    blobs = tree_blobs(tree.repo.git.ls_tree("-r", "-z", "--full-tree", sha, "--", prefix or "."))
    contents = _read_blobs(tree, [b for _, b in blobs])
    return [(path, contents[blob]) for path, blob in blobs]


def definitions_at(tree: GitTree, rev: str, names: Iterable[str] | None = None):
    """(Discovery, full sha) of the task files as they were at `rev`.

    Refuses when a wanted task may hide behind a symlink (all tasks, or a named one not
    found): a rollback must never quietly leave out a task Git cannot show.
    """
    sha = tree.resolve(rev)
    discovery = discover_sources(files_at(tree, sha), tasks_dir=tree.tasks_rel or ".")
    links = symlinks_at(tree, sha)
    missing = [n for n in names or () if n not in discovery.by_name()]
    if links and (names is None or missing):
        what = "is a symlink" if len(links) == 1 else "are symlinks"
        raise IdflowError(f"at {sha[:10]}, {', '.join(links[:5])} {what}: Git holds only the link, not the task "
                          "files, so "
                          f"{'those tasks' if names is None else ', '.join(missing)} cannot be rolled back from Git",
                          hint="name the tasks that live in the repository, or move the linked task into it")
    return discovery, sha


def file_changes(tree: GitTree, scope: str) -> list[tuple[Commit, list[tuple[str, str]]]]:
    """Every first-parent commit (oldest first) touching `scope`, with the (path, blob) of each file it changed
    (blob "" for a file it deleted): one `git log`, read blob by blob later."""
    log = tree.repo.git.log("--reverse", "--raw", "--no-renames", "--no-abbrev", "-z", "--first-parent",
                            "--format=%x1e%H%x1f%an%x1f%aI%x1f%s", "--", scope)
    commits: list[tuple[Commit, list[tuple[str, str]]]] = []
    for record in filter(None, log.split("\x1e")):
        header, _, raw = record.partition("\x00")
        header = header.strip("\n")
        if "\n" in header:  # -z puts the first raw entry after a newline
            header, first = header.split("\n", 1)
            raw = first + "\x00" + raw
        sha, author, date, subject = header.split("\x1f")
        changes = []
        parts = [p for p in raw.split("\x00") if p != ""]
        for meta, path in zip(parts[0::2], parts[1::2]):
            fields = meta.strip("\n").lstrip(":").split()
            if len(fields) >= 5:
                changes.append((path, fields[3] if fields[4] != "D" else ""))
        commits.append((Commit(sha, author, date, subject), changes))
    return commits


def history(tree: GitTree, task_dir_rel: str, name: str) -> list[HistoryEntry]:
    """Commits (newest first) where the generated definition of `name` changed."""
    scope = f"{tree.tasks_rel}/{task_dir_rel}".strip("/") if task_dir_rel else tree.tasks_rel
    commits = file_changes(tree, scope or ".")
    needed = {blob for _, changes in commits for _, blob in changes if blob}
    contents = _read_blobs(tree, list(needed))
    state: dict[str, str] = {}
    entries: list[HistoryEntry] = []
    previous: dict[str, Any] | None = None
    last_key: tuple | None = None
    for commit, changes in commits:
        for path, blob in changes:
            if blob:
                state[path] = blob
            else:
                state.pop(path, None)
        key = tuple(sorted(state.items()))
        if key == last_key:
            continue
        last_key = key
        files = [(p, contents[b]) for p, b in key]
        found = discover_sources(files, tasks_dir=tree.tasks_rel or ".").by_name().get(name)
        current = found.task_def if found else None
        if _comparable(current) != _comparable(previous):
            diff = ()
            if current is not None:
                diff = tuple((f, old, new) for f, (old, new) in
                             taskdef.field_differences(current, previous or {}).items()) if previous else ()
            entries.append(HistoryEntry(commit, current, diff))
            previous = current
    return list(reversed(entries))


def _comparable(wire: dict[str, Any] | None):
    return None if wire is None else taskdef.owned_view(wire, taskdef.owned_fields(wire))


def _read_blobs(tree: GitTree, shas: list[str]) -> dict[str, bytes]:
    """Read many blobs through GitPython's persistent `cat-file --batch` process."""
    odb = tree.repo.odb
    return {sha: odb.stream(unhexlify(sha)).read() for sha in dict.fromkeys(shas)}
