"""The backup store: every definition idflow overwrites or deletes is kept first.

A backup is one JSON file in `<state_dir>/backups/`, named by time and reason,
holding the server copies exactly as they were read. Definitions never hold
secrets (auth lives in headers), and the server URL is stored without userinfo.
"""
from __future__ import annotations

import errno
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from idflow.base.errors import FileWriteError, IdflowError, InputFileError
from idflow.base.reading import BACKUP, read_json
from idflow.base.sanitize import without_userinfo

BACKUP_FORMAT = 1
_ONE = {"taskdefs": "task", "workflows": "workflow", "event_handlers": "event handler"}
SERVER_TIMESTAMPS = ("createTime", "updateTime", "createdBy", "updatedBy")


@dataclass(frozen=True)
class BackupInfo:
    """One backup file as listed: why and when it was made, from which server, how many copies it holds."""
    path: Path
    reason: str
    created_at: str
    server_url: str
    count: int
    problem: str | None = None     # a file in the backups folder that cannot be read as a backup: listed, with why

    def to_json(self) -> dict[str, Any]:
        return {"path": str(self.path), "reason": self.reason, "created_at": self.created_at,
                "server_url": self.server_url, "count": self.count, "problem": self.problem}


def write_backup(state_dir: Path, reason: str, definitions: list[dict[str, Any]], *, server_url: str = "",
                 out: Path | None = None, kind: str = "taskdefs") -> Path:
    """Write the given server copies; returns the file. Atomic (write + rename).

    `kind` "taskdefs" goes to `<state_dir>/backups/`; any other kind ("workflows") to a
    folder of its own below it, so `tasks restore` never mistakes it for TaskDefs.
    """
    now = datetime.now(timezone.utc)
    folder = state_dir / "backups" if kind == "taskdefs" else state_dir / "backups" / kind
    path = out or folder / f"{now.strftime('%Y%m%dT%H%M%S.%fZ')}-{reason}.json"
    document = {"format": BACKUP_FORMAT, "reason": reason, "created_at": now.isoformat(timespec="seconds"),
                "server_url": without_userinfo(server_url), kind: definitions}
    try:
        return write_json_file(path, document, make_parents=out is None, indent=1, sort_keys=True)
    except FileWriteError as exc:
        # Every caller backs up before it deletes or overwrites: stopping here changes nothing.
        raise FileWriteError(f"cannot write the backup: {exc.message}; nothing on the server was changed",
                             hint=f"make {path.parent} a writable folder with free space (state_dir in "
                                  "config/idflow.yml), then run the command again") from None




def write_json_file(path: Path, document: Any, *, make_parents: bool = False, **dumps: Any) -> Path:
    """Write JSON atomically (temp file, fsync, rename): the file is whole or absent, and on any
    failure a clear FileWriteError is raised with no temp file left behind."""
    path = Path(path)
    if path.is_dir():
        raise FileWriteError(f"cannot write {path}: it is a directory", hint="name a file, e.g. plan.json")
    text = json.dumps(document, **dumps).encode("utf-8")
    tmp: str | None = None
    try:
        if make_parents:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.parent.is_dir():
            what = "is not a directory" if path.parent.exists() else "does not exist"
            raise FileWriteError(f"cannot write {path}: its folder {path.parent} {what}",
                                 hint="create the folder first, or name a file in an existing one")
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())  # a full disk often shows only here; a backup must survive a crash
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTDIR):  # mkdir met a file where a folder must be
            raise FileWriteError(f"cannot write {path}: {path.parent} or a folder above it is a file, "
                                 "not a folder", hint="move that file away, or point state_dir elsewhere") from None
        raise FileWriteError(f"cannot write {path}: {exc.strerror or exc}",
                             hint="check that the folder exists, is a folder, is writable and has space") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return path


def read_backup(path: Path, kind: str = "taskdefs") -> dict[str, Any]:
    """A backup document holding a `kind` list ("taskdefs", "workflows", "event_handlers") of objects,
    each with a non-empty string `name`; read by the bounded reader, so any other file is an InputFileError."""
    document = read_json(path, limits=BACKUP, what="backup")
    if not isinstance(document, dict) or not isinstance(document.get(kind), list):
        held = [k for k in ("taskdefs", "workflows", "event_handlers") if isinstance(document, dict)
                and isinstance(document.get(k), list)]
        raise InputFileError(path, f"not an idflow backup of {kind} (no {kind!r} list)"
                             + (f"; it holds {held[0]}" if held else ""), what="backup")
    for index, entry in enumerate(document[kind]):
        if not isinstance(entry, dict):
            raise InputFileError(path, f"entry {index} is not a {_ONE.get(kind, kind)} definition (a JSON object), "
                                       f"got {type(entry).__name__}", what="backup")
        if not isinstance(entry.get("name"), str) or not entry["name"]:
            raise InputFileError(path, f"entry {index} is not a {_ONE.get(kind, kind)} definition (no name, "
                                       "a non-empty string)",
                                 what="backup", hint="restore from another backup, or fix this one by hand")
    return document


def list_backups(state_dir: Path, kind: str = "taskdefs") -> list[BackupInfo]:
    folder = state_dir / "backups" if kind == "taskdefs" else state_dir / "backups" / kind
    result = []
    for path in sorted(folder.glob("*.json")):
        try:
            doc = read_backup(path, kind)
        except IdflowError as exc:  # said, never skipped: a restore from it would fail the same way
            result.append(BackupInfo(path, "?", "?", "", 0, problem=exc.message))
            continue
        result.append(BackupInfo(path, doc.get("reason", "?"), doc.get("created_at", "?"),
                                 doc.get("server_url", ""), len(doc[kind])))
    return result


def restorable(taskdef: dict[str, Any]) -> dict[str, Any]:
    """A backed-up definition in the form to POST back (server timestamps dropped)."""
    return {k: v for k, v in taskdef.items() if k not in SERVER_TIMESTAMPS}
