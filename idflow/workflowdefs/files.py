"""Workflow definitions kept in local files (JSON or YAML), for the usage index.

`load_workflow_files` never raises for a bad file: whatever cannot be read or is
not a workflow definition becomes a `FileIssue` naming the path and, where known,
the line, and the other files are still loaded.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from idflow.base.errors import InputFileError
from idflow.base.reading import decode, json_item_lines, load_json, pyyaml, read_bytes, yaml_documents
from idflow.taskdefs.usage import unknown_task_references

SUFFIXES = (".json", ".yaml", ".yml")
# ID Flow keeps Conductor event handlers beside its workflows: a list of handlers, not workflows.
EVENT_HANDLERS = "event_handlers.json"


@dataclass(frozen=True)
class LocalWorkflow:
    """One workflow definition read from a local file, with the file it came from."""
    path: str                  # the file it came from
    definition: dict[str, Any]


@dataclass(frozen=True)
class FileIssue:
    """A problem in a local definition file: its path, the line where known, and what is wrong."""
    path: str
    line: int                  # 1-based; 0 when no line applies
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"


def load_workflow_files(workflows_dir: Path) -> tuple[list[LocalWorkflow], list[FileIssue]]:
    """Every workflow in *.json / *.yaml / *.yml under `workflows_dir`, in path order (not event_handlers.json).

    A missing directory holds no workflows (not an issue). A file may hold one
    definition (a mapping with `name` and `tasks`) or a list of them; a YAML file
    may hold several documents.
    """
    root = Path(workflows_dir)
    if not root.exists():
        return [], []
    if not root.is_dir():
        return [], [FileIssue(str(root), 0, "not a directory")]
    files, issues = find_files(root, is_workflow_file)
    workflows: list[LocalWorkflow] = []
    for path in files:
        found, problems = _load_file(path)
        workflows.extend(found)
        issues.extend(problems)
    return workflows, issues


def find_files(root: Path, wanted: Callable[[str], bool]) -> tuple[list[Path], list[FileIssue]]:
    """The files under `root` whose name `wanted` accepts, in path order, each once; unlistable folders are issues.

    Symlinked folders are followed; the (device, inode) sets stop loops and read a file
    reached by two paths once.
    """
    issues: list[FileIssue] = []
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[tuple[int, int]] = set()
    files: list[Path] = []

    def on_error(exc: OSError) -> None:
        issues.append(FileIssue(str(exc.filename or root), 0, f"cannot list directory: {exc.strerror or exc}"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=True):
        try:
            st = os.stat(dirpath)
        except OSError as exc:
            on_error(exc)
            dirnames[:] = []
            continue
        if (st.st_dev, st.st_ino) in seen_dirs:
            dirnames[:] = []
            continue
        seen_dirs.add((st.st_dev, st.st_ino))
        dirnames.sort()
        for name in sorted(filenames):
            if not wanted(name):
                continue
            path = Path(dirpath) / name
            try:
                fst = os.stat(path)
            except OSError:
                files.append(path)  # a dangling link: reading it reports the issue
                continue
            if (fst.st_dev, fst.st_ino) not in seen_files:
                seen_files.add((fst.st_dev, fst.st_ino))
                files.append(path)
    files.sort(key=lambda p: p.relative_to(root).parts)
    return files, issues


def is_workflow_file(name: str) -> bool:
    return name.lower().endswith(SUFFIXES) and name != EVENT_HANDLERS


def _load_file(path: Path) -> tuple[list[LocalWorkflow], list[FileIssue]]:
    where = str(path)
    try:
        text = decode(read_bytes(path), where)
    except InputFileError as exc:
        return [], [issue_of(exc)]
    return parse_workflow_text(text, where)


def parse_workflow_text(text: str, where: str) -> tuple[list[LocalWorkflow], list[FileIssue]]:
    """The workflows in one file's text (`where`: its path, whose suffix says JSON or YAML): what a file at
    that path holds, e.g. a file as Git held it at some commit (history, rollback)."""
    if where.lower().endswith(".json"):
        documents, issues = _json_documents(text, where)
    else:
        documents, issues = _yaml_documents(text, where)
    workflows: list[LocalWorkflow] = []
    for data, line in documents:
        items = data if isinstance(data, list) else [data]
        lines = line if isinstance(line, list) else [line] * len(items)
        for position, (item, item_line) in enumerate(zip(items, lines)):
            label = f"item {position}: " if isinstance(data, list) else ""
            problem = _definition_problem(item)
            if problem:
                issues.append(FileIssue(where, item_line, label + problem))
            else:
                workflows.append(LocalWorkflow(where, item))
    if not documents and not issues:
        issues.append(FileIssue(where, 0, "empty file: no workflow definition"))
    return workflows, issues


def issue_of(exc: InputFileError) -> FileIssue:
    return FileIssue(exc.path, exc.line, exc.problem)


# A document and its line: for a top-level list, one line per item.
_Document = tuple[Any, "int | list[int]"]


def _json_documents(text: str, where: str) -> tuple[list[_Document], list[FileIssue]]:
    if not text.strip():
        return [], []
    try:
        data = load_json(text, where)
    except InputFileError as exc:
        return [], [issue_of(exc)]
    if isinstance(data, list):
        return [(data, json_item_lines(text, len(data)))], []
    stripped = text.lstrip()
    return [(data, text.count("\n", 0, len(text) - len(stripped)) + 1)], []


def _yaml_documents(text: str, where: str) -> tuple[list[_Document], list[FileIssue]]:
    yaml = pyyaml()
    try:
        found = yaml_documents(text, where)
    except InputFileError as exc:
        return [], [issue_of(exc)]
    documents: list[_Document] = []
    for data, node in found:
        if isinstance(node, yaml.SequenceNode):
            documents.append((data, [item.start_mark.line + 1 for item in node.value]))
        else:
            documents.append((data, node.start_mark.line + 1))
    return documents, []


def _definition_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return f"expected a workflow definition (a mapping with name and tasks), got {type(item).__name__}"
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        return "workflow definition has no name (a non-empty string)"
    if not isinstance(item.get("tasks"), list):
        return f"workflow {name!r} has no tasks list"
    return None


@dataclass(frozen=True)
class UnknownTask:
    """A workflow file names a task that no task layer defines: a warning, never a block on uploading tasks."""

    path: str
    workflow: str
    task: str
    where: str                 # JSON path in the definition, e.g. tasks[2].forkTasks[0][1]

    def __str__(self) -> str:
        return (f"{self.path}: workflow {self.workflow!r} names task {self.task!r} at {self.where}, "
                "which no local task file defines")

    def to_json(self) -> dict[str, str]:
        return {"path": self.path, "workflow": self.workflow, "task": self.task, "where": self.where,
                "message": str(self)}


def unknown_tasks(workflows: list[LocalWorkflow], known: set[str]) -> list[UnknownTask]:
    return [UnknownTask(w.path, w.definition["name"], task, where)
            for w in workflows for task, where in unknown_task_references(w.definition, known)]
