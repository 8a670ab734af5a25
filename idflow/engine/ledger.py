"""A project's ledger kept on the server: for a kind of definition with no field to stamp, the hash of each
object as idflow wrote it.

Conductor keeps no description, tag or free key on an event handler, and a workflow's free-form places
change what it does, so each project keeps one ledger per kind on the server: a TaskDef named
`_idflow_ledger_<kind>_<hash of the identity>` whose description holds `{name: hash as written}`. It is the
same for every clone, CI run and deployment of the project, and it is never a task: task plans leave it
out. `commits` says, per object, the HEAD it was written from ("" outside Git; no entry: an older ledger), so a
clone can tell a writer that was ahead of it (idflow.provenance.seen). What each hash is of is the kind's own
(`idflow.events.ledger.handler_hash`,
`idflow.workflowdefs.pulling.ledger_hashes`). A ledger write that fails, or two clones racing to write it,
can only drop entries: a dropped entry makes an object uncertain (kept, never pulled), never ours.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

LEDGER_PREFIX = "_idflow_ledger_"
MARKER = "\n\n[idflow-ledger] "
NOTE = "idflow's record of the event handlers one project uploaded (used by 'idflow events purge --orphaned')."


def is_ledger(name: Any) -> bool:
    return isinstance(name, str) and name.startswith(LEDGER_PREFIX)


def ledger_name(project: str, kind: str = "events") -> str:
    """`kind`: events (event handlers) or workflows (workflow versions)."""
    return f"{LEDGER_PREFIX}{kind}_{hashlib.sha256(project.encode()).hexdigest()[:16]}"


def _entries_key(kind: str) -> str:
    return "handlers" if kind == "events" else kind


@dataclass
class Ledger:
    """A project's ledger for one kind: each object's hash as idflow wrote it, and the HEAD it was written from."""
    project: str
    entries: dict[str, str] = field(default_factory=dict)    # name -> the kind's hash of it as written
    kind: str = "events"
    commits: dict[str, str] = field(default_factory=dict)    # name -> HEAD it was written from ("" outside Git)

    @property
    def name(self) -> str:
        return ledger_name(self.project, self.kind)

    def with_hashes(self, hashes: dict[str, str], commit: str | None) -> "Ledger":
        """These objects as written from `commit` (HEAD's sha, "" outside Git, None unknown)."""
        commits = {n: c for n, c in self.commits.items() if n not in hashes}
        if commit is not None:
            commits.update(dict.fromkeys(hashes, commit))
        return Ledger(self.project, {**self.entries, **hashes}, self.kind, commits)

    def without(self, names: list[str]) -> "Ledger":
        gone = set(names)
        return Ledger(self.project, {n: h for n, h in self.entries.items() if n not in gone}, self.kind,
                      {n: c for n, c in self.commits.items() if n not in gone})

    def taskdef(self) -> dict[str, Any]:
        data: dict[str, Any] = {"project": self.project, _entries_key(self.kind): dict(sorted(self.entries.items()))}
        if self.commits:
            data["commits"] = dict(sorted(self.commits.items()))
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"))
        note = NOTE if self.kind == "events" else NOTE.replace("event handlers", self.kind).replace(
            "'idflow events purge --orphaned'", "'idflow workflows pull'")
        return {"name": self.name, "description": note + MARKER + payload, "retryCount": 0, "timeoutSeconds": 0,
                "responseTimeoutSeconds": 1}


def read_ledger(project: str, taskdef: dict[str, Any] | None, kind: str = "events") -> Ledger:
    """The ledger in `taskdef` (the server's copy, or None); anything unreadable counts as empty."""
    text = str((taskdef or {}).get("description") or "")
    index = text.rfind(MARKER)
    if index < 0:
        return Ledger(project, kind=kind)
    try:
        data = json.loads(text[index + len(MARKER):])
    except ValueError:
        return Ledger(project, kind=kind)
    handlers = data.get(_entries_key(kind)) if isinstance(data, dict) and data.get("project") == project else None
    if not isinstance(handlers, dict):
        return Ledger(project, kind=kind)
    commits = data.get("commits") if isinstance(data.get("commits"), dict) else {}
    entries = {k: v for k, v in handlers.items() if isinstance(k, str) and isinstance(v, str)}
    return Ledger(project, entries, kind, {k: v for k, v in commits.items() if k in entries and isinstance(v, str)})
