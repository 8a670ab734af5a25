"""One Git helper for tests: repositories, clones, commits, with a fixed author and no user config."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t",
           "GIT_CONFIG_NOSYSTEM": "1"}


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in {**os.environ, **GIT_ENV}.items() if k != "GIT_INDEX_FILE"}  # not a hook's index
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL).stdout.strip()


def init_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    return root


def init_bare(root: Path) -> Path:
    """A bare repository (a remote to push to, or to deploy from)."""
    git(root.parent, "init", "-q", "--bare", "-b", "main", str(root))
    return root


def commit_all(root: Path, message: str = "change") -> str:
    """Stage everything, commit (even when nothing changed), return the new HEAD."""
    git(root, "add", "-A")
    git(root, "commit", "-q", "--allow-empty", "-m", message)
    return git(root, "rev-parse", "HEAD")


def clone(source: Path, target: Path, *args: str) -> Path:
    git(source.parent, "clone", "-q", *args, str(source), str(target))
    return target
