"""Task definitions as a kind for the write engine: how they are sent, deleted and read back.

One POST carries a batch of definitions (an upsert); a delete is one request per name,
eight at a time. Both are read back with one GET of every definition.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

from idflow.engine.backups import restorable
from idflow.engine.kind import Kind
from idflow.engine.write import Endpoint, Write, gone
from idflow.model.validation import backup_entry_problems

KIND = "taskdefs"
DELETE_CONCURRENCY = 8

Expectation = Callable[[Write, "dict[str, Any] | None"], list[str]]


def held_exactly(write: Write, held: dict[str, Any] | None) -> list[str]:
    """The plain check: the server holds the body as sent, field for field (what it fills in aside)."""
    if held is None:
        return ["missing on the server after the write"]
    body = write.body or {}
    if any(held.get(k) != v for k, v in body.items()):
        return ["the server holds something else after the write"]
    return []


def by_name(client: Any, writes: Sequence[Write] = ()) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in client.list_taskdefs() if isinstance(d, dict) and isinstance(d.get("name"), str)}


def _upsert(client: Any, batch: Sequence[Write]) -> None:
    client.upsert_taskdefs([w.body for w in batch])


def _delete(client: Any, batch: Sequence[Write]) -> None:
    for write in batch:
        client.delete_taskdef(write.key)


def upserts(batch_size: int = 500, expect: Expectation = held_exactly) -> Endpoint:
    return Endpoint(KIND, _upsert, by_name, expect, batch_size=batch_size, stop_on_failure=True)


def deletes(concurrency: int = DELETE_CONCURRENCY) -> Endpoint:
    return Endpoint(KIND, _delete, by_name, gone, concurrency=concurrency)


TASKDEFS = Kind(KIND, "task definition", ref=lambda d: d["name"], read_server=lambda client: client.list_taskdefs(),
                restorable=restorable, differs=lambda current, body: restorable(current) != body,
                entry_problems=backup_entry_problems, upserts=upserts, deletes=deletes)
