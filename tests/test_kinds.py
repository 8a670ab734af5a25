"""Every kind of definition through the same generic machinery, against the real server: the engine
deletes it (backing it up first), the generic restore puts it back from that backup, and a second
restore has nothing left to write. One test body, three kinds: what `Kind` promises."""
from __future__ import annotations

from typing import Any, Callable

import pytest

from idflow.engine.kind import Kind
from idflow.engine.write import Write, execute
from idflow.events.kind import EVENT_HANDLERS
from idflow.project.config import load_config
from idflow.taskdefs.kind import TASKDEFS
from idflow.usecases import Session
from idflow.usecases.backups import restore
from idflow.workflowdefs.kind import WORKFLOWS
from tests.eventhelp import handler, handler_prefix  # noqa: F401  (fixture)


def taskdef(name: str) -> dict[str, Any]:
    return {"name": name, "retryCount": 2, "timeoutSeconds": 60, "responseTimeoutSeconds": 30,
            "ownerEmail": "test@example.com"}


def workflow(name: str) -> dict[str, Any]:
    return {"name": name, "version": 3, "schemaVersion": 2, "ownerEmail": "test@example.com",
            "tasks": [{"name": name + "_t", "taskReferenceName": "step", "type": "WAIT"}]}


def event_handler(name: str) -> dict[str, Any]:
    return handler(name, "conductor:" + name + "_wf:done", start=name + "_wf")


CASES: dict[str, tuple[Kind, Callable[[str], dict[str, Any]], str]] = {
    "taskdefs": (TASKDEFS, taskdef, "upsert_taskdefs"),
    "workflows": (WORKFLOWS, workflow, "upsert_workflows"),
    "event_handlers": (EVENT_HANDLERS, event_handler, "create_event_handler"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_any_kind_is_deleted_with_a_backup_and_restored_from_it(project, prefix, handler_prefix, client, case):
    kind, make, create = CASES[case]
    name = (handler_prefix if kind is EVENT_HANDLERS else prefix) + "k"
    original = make(name)
    getattr(client, create)(original if create == "create_event_handler" else [original])
    [held] = [d for d in kind.read_server(client) if d.get("name") == name]

    deleted = execute(client, [Write(kind.ref(held), "deleted", replaces=held)], kind.deletes(),
                      state_dir=project.root / ".idflow", reason="test", actions=["deleted"])
    assert deleted.ok and deleted.deleted == [kind.ref(held)] and deleted.backup
    assert name not in {d.get("name") for d in kind.read_server(client)}

    session = Session(load_config(), lambda _config: client)
    outcome = restore(session, deleted.backup, kind=kind)
    assert outcome.ok and outcome.to_json()["restored"] == [kind.ref(held)]
    assert outcome.to_json()["create"] == [kind.ref(held)] and outcome.result.backup is None  # nothing overwritten
    [back] = [d for d in kind.read_server(client) if d.get("name") == name]
    assert not kind.differs(back, kind.restorable(held))

    again = restore(session, deleted.backup, kind=kind)
    assert again.ok and again.plan.to_write == [] and again.to_json()["unchanged"] == [kind.ref(held)]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_restore_over_a_changed_copy_backs_that_copy_up_first(project, prefix, handler_prefix, client, case):
    kind, make, create = CASES[case]
    name = (handler_prefix if kind is EVENT_HANDLERS else prefix) + "c"
    original = make(name)
    getattr(client, create)(original if create == "create_event_handler" else [original])
    [held] = [d for d in kind.read_server(client) if d.get("name") == name]
    snapshot = execute(client, [Write(kind.ref(held), "deleted", replaces=held)], kind.deletes(),
                       state_dir=project.root / ".idflow", reason="test", actions=["deleted"]).backup
    changed = {**kind.restorable(held), "ownerEmail": "someone@example.com"} if kind is not EVENT_HANDLERS \
        else {**kind.restorable(held), "active": False}
    getattr(client, create)(changed if create == "create_event_handler" else [changed])

    outcome = restore(Session(load_config(), lambda _config: client), snapshot, kind=kind)
    assert outcome.ok and outcome.to_json()["overwrite"] == [kind.ref(held)]
    assert outcome.result.backup is not None            # the changed copy it overwrote is kept
    [back] = [d for d in kind.read_server(client) if d.get("name") == name]
    assert not kind.differs(back, kind.restorable(held))
