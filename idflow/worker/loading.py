"""Loading the task modules before `idflow worker start` polls: choose the tasks, check, import.

The chosen tasks (from discovery; a broken task file stops the start) have their
requirements.txt lines checked against the installed distributions, then their modules
imported, each once, so their `@worker_task` decorators register them with the SDK.
A failure is collected with its file and a hint, and the command refuses to start
before any worker polls. Nothing here imports the conductor SDK (a task module may).
"""
from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable
from importlib import metadata
from importlib.metadata import PackageNotFoundError

from packaging.requirements import InvalidRequirement, Requirement

from idflow.base.errors import WorkerStartError


# ---- choosing tasks ----------------------------------------------------------------------
def select_tasks(discovery: Any, names: Iterable[str], *, all_tasks: bool) -> list[Any]:
    """The discovered tasks to run. TaskDef problems do not matter here (nothing is registered)."""
    prefixes: dict[str, list[str]] = {}
    for task in discovery.tasks:
        prefixes.setdefault(task.path, []).append(f"task {task.name!r}: ")
    broken = [i for i in discovery.errors if "is defined twice" not in i.message
              and not any(i.message.startswith(p) for p in prefixes.get(i.path, ()))]
    by_name = discovery.by_name()
    if all_tasks:
        if broken:
            raise WorkerStartError(f"{len(broken)} problem(s) in the task files; no worker was started",
                                   [f"{i.path}:{i.line}: {i.message}" for i in broken],
                                   hint="fix them, or start only the tasks you name")
        chosen = list(discovery.tasks)
    else:
        wanted = list(dict.fromkeys(names))
        missing = [n for n in wanted if n not in by_name]
        if missing:
            raise WorkerStartError(f"no local task named {', '.join(missing)}",
                                   [f"{i.path}:{i.line}: {i.message}" for i in broken],
                                   hint=f"known tasks: {', '.join(sorted(by_name)) or 'none'}")
        chosen = [t for t in discovery.tasks if t.name in wanted]
    twice = sorted(discovery.duplicate_names & {t.name for t in chosen})
    if twice:
        raise WorkerStartError(f"task name(s) defined more than once: {', '.join(twice)}",
                               [f"{t.name}: {t.path}:{t.line}" for t in chosen if t.name in twice],
                               hint="task names must be unique: rename one (task_definition_name=...)")
    if not chosen:
        raise WorkerStartError("no tasks to run", hint="add one with 'idflow tasks new NAME'")
    return chosen


# ---- requirements ------------------------------------------------------------------------
@dataclass(frozen=True)
class RequirementProblem:
    """A task's requirements.txt line the worker's environment does not meet (or that could not be checked)."""
    task: str
    path: str             # the requirements.txt
    requirement: str
    problem: str
    blocking: bool = True  # False: could not be checked (pip option, path, URL)

    def __str__(self) -> str:
        return f"{self.path}: {self.requirement}: {self.problem} (task {self.task})"


def check_requirements(tasks: Iterable[Any],
                       version_of: Callable[[str], str] | None = None) -> list[RequirementProblem]:
    """Each task's requirements.txt entry against what is installed here."""
    problems: list[RequirementProblem] = []
    seen: set[tuple[str, str]] = set()
    for task in tasks:
        path = f"{task.task_dir}/requirements.txt"
        for line in task.requirements:
            if (path, line) not in seen:
                seen.add((path, line))
                problem, blocking = _requirement_problem(line, version_of or metadata.version)
                if problem:
                    problems.append(RequirementProblem(task.name, path, line, problem, blocking))
    return problems


def _requirement_problem(line: str, version_of: Callable[[str], str]) -> tuple[str | None, bool]:
    if line.startswith(("-", ".", "/")) or "://" in line:
        return "not checked (pip option, path or URL)", False
    try:
        req = Requirement(line)
    except InvalidRequirement as exc:
        return f"not checked: {exc}", False
    if req.marker is not None and not req.marker.evaluate({"extra": ""}):
        return None, False
    try:
        installed = version_of(req.name)
    except PackageNotFoundError:
        return "not installed", True
    if req.specifier and not req.specifier.contains(installed, prereleases=True):
        return f"installed {installed}, needs {req.specifier}", True
    return None, False


# ---- importing ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportFailure:
    """A task module the worker could not import: its file, the error, and a hint where one is known."""
    path: str
    module: str
    error: str
    hint: str | None = None

    def __str__(self) -> str:
        return f"{self.path} (module {self.module}): {self.error}" + (f"\n    hint: {self.hint}" if self.hint else "")


def import_task_modules(tasks: Iterable[Any], project_root: Path) -> list[ImportFailure]:
    """Import each task's module (at most once); sys.path gains the project root and each module's root."""
    _add_path(project_root)
    failures: list[ImportFailure] = []
    done: set[str] = set()
    for task in tasks:
        if task.module in done:
            continue
        done.add(task.module)
        file = Path(task.path) if Path(task.path).is_absolute() else project_root / task.path
        try:
            module = _import(task.module, task.path, file.resolve())
        except (Exception, SystemExit) as exc:
            failures.append(ImportFailure(task.path, task.module, _describe(exc, project_root), _hint(task, exc)))
            continue
        loaded = getattr(module, "__file__", None)
        if loaded and Path(loaded).resolve() != file.resolve():
            failures.append(ImportFailure(task.path, task.module, f"the name {task.module!r} resolves to {loaded}",
                                          "rename the task directory: it shadows (or is shadowed by) another module"))
    return failures


def _import(module: str, path: str, file: Path) -> Any:
    if module != path:
        _add_path(file.parents[len(module.split(".")) - (0 if file.name == "__init__.py" else 1)])
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            spec = None
        if spec is not None and spec.origin and Path(spec.origin).resolve() == file:
            return importlib.import_module(module)
        # The dotted name belongs to another file (say, an installed copy of this project): load this one by path.
    _add_path(file.parent)  # helpers beside the file stay importable
    name = file.stem if file.stem not in sys.modules else f"idflow_task_{abs(hash(str(file)))}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {file}")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return loaded


def _add_path(directory: Path) -> None:
    # Appended, not prepended: a task directory must never shadow the standard library.
    entry = str(directory.resolve())
    if entry not in sys.path:
        sys.path.append(entry)


def _describe(exc: BaseException, project_root: Path) -> str:
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError):
        return text
    root = str(project_root.resolve())
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(root)]
    if frames:
        text += f" (at {os.path.relpath(frames[-1].filename, root)}:{frames[-1].lineno})"
    return text


def _hint(task: Any, exc: BaseException) -> str | None:
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc) and task.form == "seed":
        return ("the SDK's worker_task takes no TaskDef keywords (retry_count=..., timeout_seconds=...): "
                "write `from idflow import worker_task` instead")
    if isinstance(exc, ModuleNotFoundError):
        if task.requirements:
            return f"install the task's requirements: pip install -r {task.task_dir}/requirements.txt"
        return "install the missing package, and list it in the task's requirements.txt"
    return None
