"""`idflow init`: the files that set up a user's repository, and writing them without clobbering.

The templates are package data (idflow/templates); the example task is `idflow tasks new`'s.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from idflow.config import DEFAULT_SERVER_URL
from idflow.errors import RefusedError

CONFIG_PATH = "config/idflow.yml"
PREFECT_PATH = "prefect.yaml"
EXAMPLE_SUFFIX = "hello"


@dataclass(frozen=True)
class InitResult:
    project: str
    project_kept: bool        # an existing config's identity, kept on --force
    created: list[str]
    overwritten: list[str]
    task: str = ""            # the example task's name

    def to_json(self) -> dict:
        return {"project": self.project, "project_kept": self.project_kept, "task": self.task,
                "created": self.created, "overwritten": self.overwritten}


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


def existing_project_id(root: Path) -> str | None:
    """The `project:` of an existing config/idflow.yml, if it can be read; a re-init keeps it."""
    path = root / CONFIG_PATH
    if not path.is_file():
        return None
    from idflow.config_yaml import read_yaml

    try:
        data = read_yaml(path).data
    except Exception:  # unreadable: --force replaces it, with a fresh identity
        return None
    value = data.get("project") if isinstance(data, dict) else None
    return value if isinstance(value, str) and value.strip() else None


def template(name: str) -> str:
    from importlib import resources  # not at import: kept off every command's start-up

    return resources.files("idflow.templates").joinpath(name).read_text(encoding="utf-8")


def render(project: str, *, task: str | None = None, server_url: str = DEFAULT_SERVER_URL,
           tasks_dir: str = "idflow/tasks") -> dict[str, str]:
    """Path relative to the repository root -> content."""
    from idflow import scaffold

    def fill(text: str) -> str:
        return text.replace("__PROJECT__", project).replace("__SERVER_URL__", server_url)

    files = {CONFIG_PATH: fill(template("idflow.yml")), PREFECT_PATH: fill(template("prefect.yaml"))}
    task = task or example_task_name(project)
    files.update({f"{tasks_dir}/{rel}": content
                  for rel, content in scaffold.render(task, description=scaffold.EXAMPLE_DESCRIPTION).items()})
    return files


def init_project(root: Path, *, task: str | None = None, server_url: str | None = None,
                 force: bool = False) -> InitResult:
    """Write the files; without `force`, refuse (nothing written) when any of them exists."""
    kept = existing_project_id(root) if force else None
    project = kept or new_project_id(root)
    task = task or example_task_name(project)
    files = render(project, task=task, server_url=server_url or DEFAULT_SERVER_URL)
    present = [rel for rel in files if (root / rel).exists() or (root / rel).is_symlink()]
    if present and not force:
        raise RefusedError(f"{len(present)} file(s) already exist: {', '.join(present)}; nothing was written",
                           hint="pass --force to overwrite them (config/idflow.yml keeps its project identity)")
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():
            path.unlink()  # write a file here, never through a link to somewhere else
        path.write_text(content, encoding="utf-8")
    return InitResult(project, kept is not None, [r for r in files if r not in present], present, task)
