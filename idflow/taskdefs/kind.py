"""Task definitions as a kind for the write engine: how they are sent, deleted and read back.

One POST carries a batch of definitions (an upsert); a delete is one request per name,
eight at a time. Both are read back with one GET of every definition.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from idflow.engine.write import Write

KIND = "taskdefs"
DELETE_CONCURRENCY = 8
STILL_PRESENT = "the delete was answered, yet the server still holds it"

Expectation = Callable[[Write, "dict[str, Any] | None"], list[str]]


def held_exactly(write: Write, held: dict[str, Any] | None) -> list[str]:
    """The plain check: the server holds the body as sent, field for field (what it fills in aside)."""
    if held is None:
        return ["missing on the server after the write"]
    body = write.body or {}
    if any(held.get(k) != v for k, v in body.items()):
        return ["the server holds something else after the write"]
    return []


def _by_name(client: Any) -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in client.list_taskdefs() if isinstance(d, dict) and isinstance(d.get("name"), str)}


@dataclass(frozen=True)
class Upserts:
    batch_size: int = 500
    expect: Expectation = held_exactly
    kind: str = KIND
    concurrency: int = 1
    stop_on_failure: bool = True

    def send(self, client: Any, batch: Sequence[Write]) -> None:
        client.upsert_taskdefs([w.body for w in batch])

    def read_back(self, client: Any, writes: Sequence[Write]) -> Mapping[str, Any]:
        return _by_name(client)

    def problems(self, write: Write, held: dict[str, Any] | None) -> list[str]:
        return self.expect(write, held)


@dataclass(frozen=True)
class Deletes:
    concurrency: int = DELETE_CONCURRENCY
    kind: str = KIND
    batch_size: int = 1
    stop_on_failure: bool = False

    def send(self, client: Any, batch: Sequence[Write]) -> None:
        for write in batch:
            client.delete_taskdef(write.key)

    def read_back(self, client: Any, writes: Sequence[Write]) -> Mapping[str, Any]:
        return _by_name(client)

    def problems(self, write: Write, held: dict[str, Any] | None) -> list[str]:
        return [] if held is None else [STILL_PRESENT]
