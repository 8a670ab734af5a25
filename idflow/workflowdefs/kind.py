"""Workflow definitions as a kind for the write engine: batches of PUTs, each version read back by its path.

A workflow is named by (name, version): the account's refs are {"name", "version"} (with the
local file's "path" where there is one). A version is written only if the server then holds
the body sent, compared as `differences` compares (what the server fills in aside).
"""
from __future__ import annotations

from typing import Any, Sequence

from idflow.base.errors import ConductorError, NotFound
from idflow.engine.kind import Kind
from idflow.engine.write import Endpoint, Unreadable, Write, gone
from idflow.workflowdefs.sync import MANAGED, differences, version_of

KIND = "workflows"
DELETE_CONCURRENCY = 4


def by_version(client: Any, writes: Sequence[Write]) -> dict[str, Any]:
    """Each written version read by its own path (a missing one: None, an unreadable one: `Unreadable`)."""
    held: dict[str, Any] = {}
    for write in writes:
        try:
            held[write.key] = client.get_workflow(write.ref["name"], write.ref["version"])
        except NotFound:
            held[write.key] = None
        except ConductorError as exc:
            held[write.key] = Unreadable(f"could not read back to verify: {exc.message}")
    return held


def _upsert(client: Any, batch: Sequence[Write]) -> None:
    client.upsert_workflows([w.body for w in batch])


def _delete(client: Any, batch: Sequence[Write]) -> None:
    for write in batch:
        client.delete_workflow(write.ref["name"], write.ref["version"])


def held_as_written(write: Write, held: dict[str, Any] | None) -> list[str]:
    if not isinstance(held, dict):
        return ["not on the server after the write"]
    return [f"verify failed: the server stored {c.path} as {c.old!r}, the source says {c.new!r}"
            for c in differences(held, write.body or {})]


def upserts(batch_size: int = 500) -> Endpoint:
    return Endpoint(KIND, _upsert, by_version, held_as_written, batch_size=batch_size, stop_on_failure=True)


def deletes(concurrency: int = DELETE_CONCURRENCY) -> Endpoint:
    return Endpoint(KIND, _delete, by_version, gone, concurrency=concurrency)


def restorable(definition: dict[str, Any]) -> dict[str, Any]:
    """A backed-up workflow in the form to PUT back (what the server fills in dropped)."""
    return {k: v for k, v in definition.items() if k not in MANAGED}


def entry_problems(definition: dict[str, Any]) -> list[str]:
    version = definition.get("version", 1)
    problems = []
    if not isinstance(version, int) or isinstance(version, bool) or not 0 < version <= 2**31 - 1:
        problems.append(f"has version {repr(version)[:40]}: a workflow version is a whole number from 1")
    if not isinstance(definition.get("tasks", []), list):
        problems.append("has tasks that are not a list")
    return problems


WORKFLOWS = Kind(KIND, "workflow", ref=lambda d: {"name": d["name"], "version": version_of(d)},
                 read_server=lambda client: client.list_workflows(), restorable=restorable,
                 differs=lambda current, body: bool(differences(current, body)), entry_problems=entry_problems,
                 upserts=upserts, deletes=deletes)
