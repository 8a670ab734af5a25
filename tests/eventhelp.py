"""Event handler test helpers: a handler body, and a name prefix whose handlers are deleted afterwards."""
from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest


def written(doc: dict[str, Any]) -> list[str]:
    """The handlers an upload's account says it wrote (created or updated, and verified)."""
    return doc["created"] + doc["updated"]


def handler(name: str, event: str, *, start: str = "w", active: bool = True, **fields: Any) -> dict[str, Any]:
    return {"name": name, "event": event, "active": active, **fields,
            "actions": [{"action": "start_workflow", "start_workflow": {"name": start, "input": {"from": "${id}"}}}]}


@pytest.fixture
def handler_prefix(conductor_url: str) -> Iterator[str]:
    """A unique prefix; every event handler named with it is deleted afterwards."""
    value = f"e{uuid.uuid4().hex[:8]}_"
    yield value
    from idflow.conductor.client import ConductorClient
    from idflow.base.errors import ConductorError

    with ConductorClient(conductor_url) as c:
        for h in c.list_event_handlers():
            if h["name"].startswith(value):
                try:
                    c.delete_event_handler(h["name"])
                except ConductorError:
                    pass


@pytest.fixture
def ledgers(project, conductor_url: str) -> Iterator[None]:
    """The test project's event and workflow ledgers (TaskDefs on the server) are deleted afterwards."""
    yield
    import re

    from idflow.base.errors import ConductorError
    from idflow.conductor.client import ConductorClient
    from idflow.engine.ledger import ledger_name

    found = re.search(r"^project: (\S+)$", project.config_path.read_text(), re.M)
    if not found:
        return
    with ConductorClient(conductor_url) as c:
        for kind in ("events", "workflows"):
            try:
                c.delete_taskdef(ledger_name(found.group(1), kind))
            except ConductorError:
                pass
