"""Workflow definitions as a kind for the write engine: batches of PUTs, each version read back by its path.

A workflow is named by (name, version): the account's refs are {"name", "version"} (with the
local file's "path" where there is one). A version is written only if the server then holds
the body sent, compared as `differences` compares (what the server fills in aside).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from idflow.base.errors import ConductorError, NotFound
from idflow.engine.write import Unreadable, Write
from idflow.workflowdefs.sync import differences

KIND = "workflows"
STILL_PRESENT = "the delete was answered, yet the server still holds this version"


def _held(client: Any, writes: Sequence[Write]) -> dict[str, Any]:
    held: dict[str, Any] = {}
    for write in writes:
        try:
            held[write.key] = client.get_workflow(write.ref["name"], write.ref["version"])
        except NotFound:
            held[write.key] = None
        except ConductorError as exc:
            held[write.key] = Unreadable(f"could not read back to verify: {exc.message}")
    return held


@dataclass(frozen=True)
class Upserts:
    batch_size: int = 500
    kind: str = KIND
    concurrency: int = 1
    stop_on_failure: bool = True

    def send(self, client: Any, batch: Sequence[Write]) -> None:
        client.upsert_workflows([w.body for w in batch])

    def read_back(self, client: Any, writes: Sequence[Write]) -> Mapping[str, Any]:
        return _held(client, writes)

    def problems(self, write: Write, held: dict[str, Any] | None) -> list[str]:
        if not isinstance(held, dict):
            return ["not on the server after the write"]
        return [f"verify failed: the server stored {c.path} as {c.old!r}, the source says {c.new!r}"
                for c in differences(held, write.body or {})]


@dataclass(frozen=True)
class Deletes:
    kind: str = KIND
    batch_size: int = 1
    concurrency: int = 4
    stop_on_failure: bool = False

    def send(self, client: Any, batch: Sequence[Write]) -> None:
        for write in batch:
            client.delete_workflow(write.ref["name"], write.ref["version"])

    def read_back(self, client: Any, writes: Sequence[Write]) -> Mapping[str, Any]:
        return _held(client, writes)

    def problems(self, write: Write, held: dict[str, Any] | None) -> list[str]:
        return [] if held is None else [STILL_PRESENT]
