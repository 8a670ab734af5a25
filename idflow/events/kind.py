"""Event handlers as a kind for the write engine: one request per handler, the list read back once.

A new handler is POSTed, not upserted: one someone created since the plan was read must not be
overwritten unseen (the server refuses the POST). A changed one is PUT.
"""
from __future__ import annotations

from typing import Any, Sequence

from idflow.base.errors import ConductorError, NotFound
from idflow.engine.kind import Kind
from idflow.engine.write import Endpoint, Write, gone
from idflow.events.model import definition_problems, differences

KIND = "event_handlers"
GONE_SINCE_PLAN = "deleted from the server since the plan was read; rerun to create it"


def by_name(client: Any, writes: Sequence[Write] = ()) -> dict[str, dict[str, Any]]:
    return {h["name"]: h for h in client.list_event_handlers() if isinstance(h, dict) and "name" in h}


def _write(client: Any, batch: Sequence[Write]) -> None:
    for write in batch:
        if write.replaces is None:   # nothing on the server to replace: a create
            client.create_event_handler(write.body)
            continue
        try:
            client.update_event_handler(write.body)
        except NotFound as exc:
            raise ConductorError(GONE_SINCE_PLAN, status=exc.status) from exc


def _delete(client: Any, batch: Sequence[Write]) -> None:
    for write in batch:
        client.delete_event_handler(write.key)


def held_as_written(write: Write, held: dict[str, Any] | None) -> list[str]:
    if held is None:
        return ["not on the server after the write"]
    changed = differences(held, write.body or {})
    if changed:
        return ["the server holds something else after the write (differs in "
                f"{', '.join(c.path for c in changed[:10])})"]
    return []


WRITES = Endpoint(KIND, _write, by_name, held_as_written)
DELETES = Endpoint(KIND, _delete, by_name, gone)

EVENT_HANDLERS = Kind(KIND, "event handler", ref=lambda h: h["name"],
                      read_server=lambda client: client.list_event_handlers(), restorable=dict,
                      differs=lambda current, body: bool(differences(current, body)),
                      entry_problems=lambda h: definition_problems(h)[0], upserts=lambda batch_size: WRITES,
                      deletes=lambda: DELETES)
