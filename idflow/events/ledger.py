"""Which event handlers a project uploaded: its ledger (`idflow.engine.ledger`, kind `events`), since a handler
has no field to stamp.

`events purge --orphaned` deletes a handler in no local file only when this project's ledger names it
*and* the server's copy still hashes to what idflow wrote. A handler someone edited since is uncertain
(kept); one the ledger does not name is not ours (kept), whatever its actions target. A dropped ledger
entry keeps a handler, it never deletes one.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from idflow.base.errors import InputFileError
from idflow.base.reading import DEFINITIONS, decode
from idflow.engine.ledger import Ledger
from idflow.events.files import LocalHandlers, handlers_in_text
from idflow.events.model import normalise
from idflow.workflowdefs.files import EVENT_HANDLERS


def handler_hash(handler: dict[str, Any]) -> str:
    """The hash of a handler's normal form: equal for a handler as written and as the server returns it."""
    text = json.dumps(normalise(handler), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def record_handlers(ledger: Ledger, written: dict[str, dict[str, Any]], commit: str | None) -> Ledger:
    """The ledger with each written handler (name -> its server copy) recorded, written from `commit`."""
    return ledger.with_hashes({n: handler_hash(h) for n, h in written.items()}, commit)


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


def is_handlers_path(path: str) -> bool:
    return path.rsplit("/", 1)[-1] == EVENT_HANDLERS


def handler_hashes_in(path: str, content: bytes) -> list[tuple[str, str]]:
    """(name, hash) of each handler an event_handlers.json held at some commit (idflow.provenance.seen); a file
    that cannot be read holds none, so what it held stays unseen and is kept."""
    if not is_handlers_path(path) or len(content) > DEFINITIONS.max_bytes:
        return []
    try:
        found = handlers_in_text(decode(content, path), path, LocalHandlers())
    except InputFileError:
        return []
    return [(h.name, handler_hash(h.definition)) for h in found]
