"""Local `event_handlers.json` files: every one under the workflows directory, read without ever raising.

Each file goes through the bounded reader (`idflow.base.reading`). A file that cannot be read, is not JSON, or holds something that is not a list of
handlers becomes a `FileIssue` with its path and, where known, the line. A handler
name defined twice is an error naming both places, and neither definition is used.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idflow.base.errors import InputFileError
from idflow.events.model import definition_problems
from idflow.base.reading import decode, read_bytes
from idflow.workflowdefs.files import EVENT_HANDLERS, FileIssue, _json_documents, find_files, issue_of


@dataclass(frozen=True)
class LocalHandler:
    """One event handler read from a local `event_handlers.json`, with the file and line it starts on."""
    path: str                  # the file it came from
    line: int                  # where its object starts
    definition: dict[str, Any]

    @property
    def name(self) -> str:
        return self.definition["name"]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class LocalHandlers:
    """Every local event-handler file read: the usable handlers, the problems found, every name mentioned."""
    handlers: list[LocalHandler] = field(default_factory=list)   # valid, each name once
    issues: list[FileIssue] = field(default_factory=list)        # errors: files or handlers not usable
    warnings: list[FileIssue] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    mentioned: set[str] = field(default_factory=set)  # every name a file gives, valid or not: never an orphan

    def by_name(self) -> dict[str, LocalHandler]:
        return {h.name: h for h in self.handlers}


def load_event_handler_files(workflows_dir: Path) -> LocalHandlers:
    """Every handler in every `event_handlers.json` below `workflows_dir`, in path order."""
    root = Path(workflows_dir)
    result = LocalHandlers()
    if not root.exists():
        return result
    if not root.is_dir():
        result.issues.append(FileIssue(str(root), 0, "not a directory"))
        return result
    candidates: dict[str, list[LocalHandler]] = {}
    paths, problems = find_files(root, lambda name: name == EVENT_HANDLERS)
    result.issues.extend(problems)
    for path in paths:
        result.files.append(str(path))
        for handler in _load(path, result):
            candidates.setdefault(handler.name, []).append(handler)
    for name, found in candidates.items():
        if len(found) == 1:
            result.handlers.append(found[0])
            continue
        places = " and ".join(h.where for h in found)
        for handler in found:
            result.issues.append(FileIssue(handler.path, handler.line,
                                           f"event handler {name!r} is defined more than once: {places}"))
    return result


def _load(path: Path, result: LocalHandlers) -> list[LocalHandler]:
    where = str(path)
    try:
        text = decode(read_bytes(path), where)
    except InputFileError as exc:
        result.issues.append(issue_of(exc))
        return []
    return handlers_in_text(text, where, result)


def handlers_in_text(text: str, where: str, result: LocalHandlers) -> list[LocalHandler]:
    """The valid handlers in one event_handlers.json text (`where`: its path); names and problems go to
    `result`. Also what such a file held at some commit (idflow.provenance.seen)."""
    if not text.strip():
        result.issues.append(FileIssue(where, 0, "empty file: expected a JSON list of event handlers"))
        return []
    documents, problems = _json_documents(text, where)
    result.issues.extend(problems)
    handlers: list[LocalHandler] = []
    for data, lines in documents:
        if not isinstance(data, list):
            result.issues.append(FileIssue(where, lines if isinstance(lines, int) else 1,
                                           f"expected a JSON list of event handlers, got {type(data).__name__}"))
            continue
        for position, (item, line) in enumerate(zip(data, lines)):
            errors, warnings = definition_problems(item)
            if isinstance(item, dict) and isinstance(item.get("name"), str):
                result.mentioned.add(item["name"])
            result.warnings.extend(FileIssue(where, line, f"item {position}: {w}") for w in warnings)
            if errors:
                result.issues.extend(FileIssue(where, line, f"item {position}: {e}") for e in errors)
            else:
                handlers.append(LocalHandler(where, line, item))
    return handlers
