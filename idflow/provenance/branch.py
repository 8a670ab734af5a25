"""Commit files on a branch of their own and push it, leaving HEAD, the index and the working tree as
they are: the sync flow's pull policy sends the server's edits for review this way, never to the branch
it deployed from.

The commit is made with plumbing and a temporary index: HEAD's tree plus the files as they are on disk,
HEAD as its parent. A push that would only repeat what the remote branch already holds (same tree, same
parent) is skipped, so a scheduled run does not make a new commit every time.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from idflow.base.errors import IdflowError, RefusedError


@dataclass(frozen=True)
class PushedBranch:
    """The review branch holding pulled server edits: its name, its commit, and whether a push was needed."""
    branch: str
    commit: str
    pushed: bool               # False: the remote branch already held exactly this change

    def to_json(self) -> dict[str, object]:
        return {"branch": self.branch, "commit": self.commit, "pushed": self.pushed}


def _git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise IdflowError(f"git {args[0]} failed: {done.stderr.strip()[:300] or done.returncode}")
    return done.stdout.strip()


def current_branch(root: Path) -> str:
    return _git(root, "rev-parse", "--abbrev-ref", "HEAD")


def branch_name(template: str, environment: str | None) -> str:
    return template.replace("{environment}", environment or "default")


def commit_to_branch(root: Path, paths: Iterable[str], branch: str, message: str, *,
                     remote: str = "origin") -> PushedBranch:
    """Commit `paths` (as on disk) on top of HEAD and push it as `branch`; refuses the checked-out branch."""
    deployed = current_branch(root)
    if branch in (deployed, "HEAD") or _git(root, "check-ref-format", "--branch", branch) != branch:
        raise RefusedError(f"will not push server edits to {branch!r}: it is the deployed branch or not a branch "
                           "name; nothing was pushed", hint="set server_edits_branch to a branch of its own")
    env = {**os.environ, **_identity(root)}
    with tempfile.TemporaryDirectory() as folder:
        env["GIT_INDEX_FILE"] = os.path.join(folder, "index")
        _git(root, "read-tree", "HEAD", env=env)
        _git(root, "add", "--", *paths, env=env)
        tree = _git(root, "write-tree", env=env)
    parent = _git(root, "rev-parse", "HEAD")
    held = _remote_commit(root, remote, branch)
    if held and _git(root, "rev-parse", f"{held}^{{tree}}") == tree and _parents(root, held) == [parent]:
        return PushedBranch(branch, held, False)
    commit = _git(root, "commit-tree", tree, "-p", parent, "-m", message, env=env)
    _git(root, "push", "--force", remote, f"{commit}:refs/heads/{branch}")
    return PushedBranch(branch, commit, True)


def _remote_commit(root: Path, remote: str, branch: str) -> str | None:
    listed = _git(root, "ls-remote", remote, f"refs/heads/{branch}").split()
    if not listed:
        return None
    _git(root, "fetch", "--quiet", remote, f"refs/heads/{branch}")
    return listed[0]


def _parents(root: Path, commit: str) -> list[str]:
    return _git(root, "rev-list", "--parents", "-n", "1", commit).split()[1:]


def _identity(root: Path) -> dict[str, str]:
    """A deployment's clone often has no user configured: the commit is then idflow's own."""
    found = subprocess.run(["git", "config", "user.email"], cwd=root, capture_output=True, text=True)
    if found.stdout.strip():
        return {}
    return {"GIT_AUTHOR_NAME": "idflow", "GIT_AUTHOR_EMAIL": "idflow", "GIT_COMMITTER_NAME": "idflow",
            "GIT_COMMITTER_EMAIL": "idflow"}
