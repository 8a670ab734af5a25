"""`events import` and `events pull`, planned (pure): server-only handlers into new event_handlers.json
files; handlers edited on the server back into the files they came from.

The base is this project's ledger (`idflow.events.ledger`): the hash of each handler as idflow wrote it.
A handler is pulled only when the server moved and the code did not; a conflict, or a handler the ledger
does not name, is refused with the reason.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import IdflowError
from idflow.conductor.paths import addressable
from idflow.events.files import LocalHandlers
from idflow.engine.ledger import Ledger
from idflow.events.ledger import handler_hash
from idflow.events.model import PAYLOAD_DEFAULTS, differences, named_workflows, normalise, wire
from idflow.pulling.objects import NewFile, ObjectPull, Refusal, free_path, json_text
from idflow.pulling.threeway import CODE_CHANGED, CONFLICT, EDITED, REASONS, SAME, pulled_value, three_way
from idflow.pulling.files import safe_stem
from idflow.workflowdefs.files import EVENT_HANDLERS

UNGROUPED = "event_handlers"


def handler_state(local: dict[str, Any], server: dict[str, Any], ledger: Ledger | None) -> str:
    base = ledger.entries.get(local["name"]) if ledger is not None else None
    return three_way(base, handler_hash(wire(local)), handler_hash(server), equal=not differences(server, wire(local)))


def unseen_reverts(updates: Iterable[Any], ledger: Ledger | None) -> list[Refusal]:
    """The updates (HandlerItems) that would revert an edit made on the server since idflow wrote the handler."""
    found = []
    for item in updates:
        state = handler_state(item.desired, item.actual, ledger)
        if state == EDITED:
            found.append(Refusal(item.name, "edited on the server since idflow uploaded it, its file unchanged"))
        elif state == CONFLICT:
            found.append(Refusal(item.name, REASONS[CONFLICT]))
    return found


def plan_event_pull(local: LocalHandlers, remote: list[dict[str, Any]], ledger: Ledger | None,
                    names: Iterable[str] = ()) -> tuple[list[ObjectPull], list[Refusal]]:
    """(what to pull, what cannot be): every local handler edited on the server, or those named."""
    wanted = list(dict.fromkeys(names))
    by_name = local.by_name()
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise IdflowError(f"no valid local event handler named {', '.join(map(repr, unknown))}",
                          hint="'idflow events list --local' lists them")
    on_server = {h["name"]: h for h in remote}
    pulls: list[ObjectPull] = []
    refused: list[Refusal] = []
    for handler in (by_name[n] for n in wanted) if wanted else local.handlers:
        server = on_server.get(handler.name)
        if server is None:
            if wanted:
                refused.append(Refusal(handler.name, "not on the server: nothing to pull"))
            continue
        state = handler_state(handler.definition, server, ledger)
        if state in (SAME, CODE_CHANGED):
            continue
        if state != EDITED:
            refused.append(Refusal(handler.name, REASONS[state]))
            continue
        target = pulled_value(normalise(server), handler.definition, normalise(handler.definition))
        changes = tuple(c.path for c in differences(handler.definition, server))
        pulls.append(ObjectPull(handler.name, handler.path, handler.name, None, target, changes))
    return pulls, refused


def plan_event_import(local: LocalHandlers, remote: list[dict[str, Any]], ledger: Ledger | None,
                      workflows_dir: Path, names: Iterable[str] = ()) -> tuple[list[NewFile], list[Refusal]]:
    """Server-only handlers into new event_handlers.json files: one per workflow the handler belongs to
    (its conductor:<workflow>: event, else the workflow it starts), beside that workflow's files."""
    wanted = list(dict.fromkeys(names))
    on_server = {h["name"]: h for h in remote}
    skipped: list[Refusal] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    for name in wanted or [n for n in on_server if n not in local.mentioned]:
        server = on_server.get(name)
        reason = _import_doubt(name, server, local, ledger, named=bool(wanted))
        if reason:
            skipped.append(Refusal(name, reason))
            continue
        assert server is not None
        workflows, _ = named_workflows(server)
        groups.setdefault(safe_stem(workflows[0]) if workflows else UNGROUPED, []).append(imported_handler(server))
    taken: set[str] = set()
    files = []
    for folder, handlers in sorted(groups.items()):
        candidates = (workflows_dir / (folder if n == 1 else f"{folder}_imported{'' if n == 2 else n - 1}")
                      / EVENT_HANDLERS for n in itertools.count(1))
        path = free_path(candidates, taken)
        files.append(NewFile(str(path), tuple(h["name"] for h in handlers), json_text(handlers)))
    return files, skipped


def imported_handler(server_copy: dict[str, Any]) -> dict[str, Any]:
    """The handler as a person writes it: the server's fields without what it fills in by itself
    (`expandInlineJSON: false`, an empty input or output map); `active` always said."""
    handler = {k: v for k, v in wire(server_copy).items() if v is not None}
    handler["active"] = bool(handler.get("active", False))
    handler["actions"] = [_imported_action(a) for a in handler.get("actions") or []]
    return handler


def _imported_action(action: Any) -> Any:
    if not isinstance(action, dict):
        return action
    out = {k: v for k, v in action.items() if v is not None and not (k == "expandInlineJSON" and v is False)}
    kind = out.get("action")
    payload = out.get(kind) if isinstance(kind, str) else None
    if isinstance(payload, dict):
        out[kind] = {k: v for k, v in payload.items()
                     if v is not None and PAYLOAD_DEFAULTS.get(kind, {}).get(k, ...) != v}
    return out


def _import_doubt(name: str, server: dict[str, Any] | None, local: LocalHandlers, ledger: Ledger | None, *,
                  named: bool) -> str | None:
    if server is None:
        return "not on the server"
    if name in local.mentioned:
        return "already in a local event_handlers.json"
    if why := addressable(name):
        return f"idflow cannot manage this name: {why}"
    if not named and ledger is not None and name in ledger.entries:
        return ("this project uploaded it and its file is gone: 'idflow events purge --orphaned' deletes it; "
                "import it by name to keep it")
    return None
