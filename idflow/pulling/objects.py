"""Pulled objects into their JSON files, and imported definitions into new files (pure, then the writes).

An `ObjectPull` names one object in one file (by name, and version for a workflow) and the value it
becomes; `rewrite_texts` edits every file once in memory, so a refusal (a file changed since it was read,
an object no longer there) writes nothing. `NewFile` is a file `import` writes, never over an existing one.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import RefusedError
from idflow.pulling.files import replace_text, write_new
from idflow.pulling.jsonedit import Edit, apply_edits, edits_for, parse


@dataclass(frozen=True)
class ObjectPull:
    """One object pulled into its JSON file: the file, the handler or workflow version, and what it becomes."""
    label: str                         # handler name, or "workflow v2"
    path: str                          # the JSON file holding it
    name: str
    version: int | None                # a workflow's; None for a handler
    target: Any                        # what the object becomes
    changes: tuple[str, ...]           # the paths the server changed

    def to_json(self) -> dict[str, Any]:
        return {"name": self.label, "path": self.path, "changes": list(self.changes)}


@dataclass(frozen=True)
class Refusal:
    """An object that is not pulled or imported, and why."""
    name: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "reason": self.reason}


@dataclass(frozen=True)
class NewFile:
    """A new JSON file `import` writes, never over an existing one: its path, the objects in it, its text."""
    path: str
    names: tuple[str, ...]
    content: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "names": list(self.names)}


def _matches(item: Any, pull: ObjectPull) -> bool:
    if not isinstance(item, dict) or item.get("name") != pull.name:
        return False
    return pull.version is None or (item.get("version", 1) == pull.version)


def rewrite_texts(pulls: Iterable[ObjectPull]) -> dict[str, str]:
    """{path: new text} for every file a pull touches (nothing is written here)."""
    by_path: dict[str, list[ObjectPull]] = {}
    for pull in pulls:
        by_path.setdefault(pull.path, []).append(pull)
    texts: dict[str, str] = {}
    for path, group in by_path.items():
        text = Path(path).read_text(encoding="utf-8")
        tree, data = parse(text), json.loads(text)
        edits: list[Edit] = []
        for pull in group:
            if isinstance(data, list):
                where = [i for i, item in enumerate(data) if _matches(item, pull)]
                location: list[str | int] | None = where[:1] if len(where) == 1 else None
            else:
                location = [] if _matches(data, pull) else None
            if location is None:
                raise RefusedError(f"{path} no longer holds {pull.label} once (it changed since it was read); "
                                   "nothing was written", hint="run the pull again")
            edits += edits_for(text, location, pull.target, tree=tree)
        texts[path] = apply_edits(text, edits)
    return texts


def write_texts(texts: dict[str, str]) -> None:
    for path, text in texts.items():
        replace_text(path, text)


def free_path(candidates: Iterable[Path], taken: set[str]) -> Path:
    """The first candidate that is neither on disk (a dangling link counts) nor already planned."""
    for path in candidates:
        if str(path) not in taken and not path.exists() and not path.is_symlink():
            taken.add(str(path))
            return path
    raise AssertionError("candidates are endless")


def write_new_files(files: Iterable[NewFile]) -> None:
    for item in files:
        write_new(item.path, item.content)


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
