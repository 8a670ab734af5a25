"""`idflow init`: the files that set up a user's repository, and writing them without clobbering.

The templates are package data (idflow/templates); the example task is `idflow tasks new`'s.
"""
from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from importlib import resources

from idflow.project.config import DEFAULT_SERVER_URL
from idflow.base.errors import FileWriteError, RefusedError, ConfigError
from idflow.project.config_yaml import read_yaml
from idflow.taskdefs import scaffold

CONFIG_PATH = "config/idflow.yml"
PREFECT_PATH = "prefect.yaml"
EXAMPLE_SUFFIX = "hello"


@dataclass(frozen=True)
class InitResult:
    """What `idflow init` did: the project identity, the files created or overwritten, and where the old ones went."""
    project: str
    project_kept: bool        # an existing config's identity, kept on --force
    created: list[str]
    overwritten: list[str]
    backups: dict[str, str] = field(default_factory=dict)   # each overwritten file -> where the old one is now
    task: str = ""            # the example task's name

    def to_json(self) -> dict:
        return {"project": self.project, "project_kept": self.project_kept, "task": self.task,
                "created": self.created, "overwritten": self.overwritten, "backups": self.backups}


def new_project_id(root: Path) -> str:
    """The directory's name, made safe, plus a random suffix: distinct even for two repos both named `app`."""
    base = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-")[:40] or "project"
    return f"{base}-{uuid.uuid4().hex[:8]}"


def example_task_name(project: str) -> str:
    """The example task, named after the project identity: `my_repo_1a2b3c4d_hello`. A plain
    `hello` would collide with the next team's `idflow init` against the same server."""
    base = re.sub(r"[^a-z0-9]+", "_", project.lower()).strip("_") or "project"
    if base[0].isdigit():
        base = "p_" + base
    return f"{base[:60]}_{EXAMPLE_SUFFIX}"


def existing_config(root: Path) -> dict:
    """An existing config/idflow.yml's mapping, if it can be read (else {}): a re-init keeps its identity and URL."""
    path = root / CONFIG_PATH
    if not path.is_file():
        return {}
    try:
        data = read_yaml(path).data
    except ConfigError:  # unreadable: --force replaces it (backed up), with a fresh identity
        return {}
    return data if isinstance(data, dict) else {}


def existing_project_id(root: Path) -> str | None:
    """The `project:` of an existing config/idflow.yml, if it can be read; a re-init keeps it."""
    return _text(existing_config(root).get("project"))


def template(name: str) -> str:
    return resources.files("idflow.templates").joinpath(name).read_text(encoding="utf-8")


def render(project: str, *, task: str | None = None, server_url: str = DEFAULT_SERVER_URL,
           tasks_dir: str = "idflow/tasks") -> dict[str, str]:
    """Path relative to the repository root -> content."""
    def fill(text: str) -> str:
        return text.replace("__PROJECT__", project).replace("__SERVER_URL__", server_url)

    files = {CONFIG_PATH: fill(template("idflow.yml")), PREFECT_PATH: fill(template("prefect.yaml"))}
    task = task or example_task_name(project)
    files.update({f"{tasks_dir}/{rel}": content
                  for rel, content in scaffold.render(task, description=scaffold.EXAMPLE_DESCRIPTION).items()})
    return files


def init_project(root: Path, *, task: str | None = None, server_url: str | None = None,
                 force: bool = False) -> InitResult:
    """Write the files; without `force`, refuse (nothing written) when any of them exists.

    With `force`, every file it replaces is first renamed to `<name>.<time>.bak` beside it (a rename, so
    even a FIFO is never read), and the old config's project identity and server URL are kept.
    """
    old = existing_config(root) if force else {}
    kept = _text(old.get("project"))
    project = kept or new_project_id(root)
    nested = old.get("conductor") if isinstance(old.get("conductor"), dict) else {}
    server_url = server_url or _text(old.get("conductor_server_url")) or _text(nested.get("server_url"))
    task = task or example_task_name(project)
    files = render(project, task=task, server_url=server_url or DEFAULT_SERVER_URL)
    blocked = _blocked(root, files)
    if blocked:
        raise FileWriteError(f"cannot write {'; '.join(blocked)}; nothing was written",
                             hint="move that file or folder away, then run `idflow init` again")
    present = [rel for rel in files if (root / rel).exists() or (root / rel).is_symlink()]
    if present and not force:
        raise RefusedError(f"{len(present)} file(s) already exist: {', '.join(present)}; nothing was written",
                           hint="pass --force to overwrite them (the old ones are kept as .bak files; "
                                "config/idflow.yml keeps its project identity)")
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    backups: dict[str, str] = {}
    try:
        for rel in present:
            backup = f"{rel}.{stamp}.bak"
            os.replace(root / rel, root / backup)  # a link is moved as a link: nothing is written through it
            backups[rel] = backup
        for rel, content in files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
    except OSError as exc:
        raise FileWriteError(f"cannot write {exc.filename or root}: {exc.strerror or exc}"
                             + (f"; the old files are kept as {', '.join(backups.values())}" if backups else ""),
                             hint="check that the folder is writable") from None
    return InitResult(project, kept is not None, [r for r in files if r not in present], present, backups, task)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value.strip() else None


def _blocked(root: Path, files: dict[str, str]) -> list[str]:
    """Why a file cannot be written where it goes: a folder on its path is a file, or it is a directory."""
    problems: list[str] = []
    for rel in files:
        for parent in reversed(Path(rel).parents[:-1]):
            folder = root / parent
            if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
                problems.append(f"{rel}: {parent.as_posix()} is a file, not a folder")
                break
        else:
            if (root / rel).is_dir():
                problems.append(f"{rel}: it is a directory, not a file")
    return list(dict.fromkeys(problems))
