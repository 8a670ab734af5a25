"""Which event handlers a project uploaded: a ledger kept on the server, since a handler has no field to stamp.

Conductor keeps no description, tag or free key on an event handler (see `idflow.events`), and the
free-form places that survive change what the handler does. So each project keeps one ledger on the
server: a TaskDef named `_idflow_ledger_events_<hash of the identity>` whose description holds
`{handler name: hash of the handler as idflow wrote it}`. It is the same for every clone, CI run and
deployment of the project, and it is never a task: task plans leave it out.

`events purge --orphaned` deletes a handler in no local file only when this project's ledger names it
*and* the server's copy still hashes to what idflow wrote. A handler someone edited since is uncertain
(kept); one the ledger does not name is not ours (kept), whatever its actions target. A ledger write
that fails, or two clones racing to write it, can only drop entries: a dropped entry keeps a handler,
it never deletes one.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from idflow.events.model import normalise

LEDGER_PREFIX = "_idflow_ledger_"
MARKER = "\n\n[idflow-ledger] "
NOTE = "idflow's record of the event handlers one project uploaded (used by 'idflow events purge --orphaned')."


def is_ledger(name: Any) -> bool:
    return isinstance(name, str) and name.startswith(LEDGER_PREFIX)


def ledger_name(project: str, kind: str = "events") -> str:
    """`kind`: events, or workflows (`idflow.workflowdefs.ledger`: the same record for workflow versions)."""
    return f"{LEDGER_PREFIX}{kind}_{hashlib.sha256(project.encode()).hexdigest()[:16]}"


def _entries_key(kind: str) -> str:
    return "handlers" if kind == "events" else kind


def handler_hash(handler: dict[str, Any]) -> str:
    """The hash of a handler's normal form: equal for a handler as written and as the server returns it."""
    text = json.dumps(normalise(handler), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Ledger:
    project: str
    entries: dict[str, str] = field(default_factory=dict)    # handler name -> handler_hash as written
    kind: str = "events"

    @property
    def name(self) -> str:
        return ledger_name(self.project, self.kind)

    def recorded(self, written: dict[str, dict[str, Any]]) -> "Ledger":
        """With each written handler (name -> its server copy) recorded."""
        return self.with_hashes({n: handler_hash(h) for n, h in written.items()})

    def with_hashes(self, hashes: dict[str, str]) -> "Ledger":
        return Ledger(self.project, {**self.entries, **hashes}, self.kind)

    def without(self, names: list[str]) -> "Ledger":
        gone = set(names)
        return Ledger(self.project, {n: h for n, h in self.entries.items() if n not in gone}, self.kind)

    def taskdef(self) -> dict[str, Any]:
        payload = json.dumps({"project": self.project, _entries_key(self.kind): dict(sorted(self.entries.items()))},
                             sort_keys=True, separators=(",", ":"))
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
    return Ledger(project, {k: v for k, v in handlers.items() if isinstance(k, str) and isinstance(v, str)}, kind)


def ownership_doubt(name: str, server_copy: dict[str, Any], ledger: Ledger | None) -> str | None:
    """Why a remote handler in no local file is not provably ours and unwanted (None: it is)."""
    if ledger is None:
        return "this project has no identity, so no handler is provably its own (delete it by name)"
    recorded = ledger.entries.get(name)
    if recorded is None:
        return "not uploaded by this project: its ledger does not name it (delete it by name)"
    if recorded != handler_hash(server_copy):
        return "uncertain, kept: edited on the server since this project uploaded it (delete it by name)"
    return None
