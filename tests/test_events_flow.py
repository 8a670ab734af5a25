"""The sync flow uploads event handlers only when its `events` parameter asks for it."""
from __future__ import annotations

import json

from tests.eventhelp import handler, handler_prefix, written  # noqa: F401  (fixture)
import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)


def test_sync_flow_uploads_event_handlers_only_with_events(prefect_harness, project, handler_prefix, client):
    from idflow.flows import definitions as flows

    wf, name = handler_prefix + "wf", handler_prefix + "h"
    folder = project.workflows_dir / wf
    folder.mkdir()
    (folder / f"{wf}.json").write_text(json.dumps({"name": wf, "version": 1, "tasks": []}))
    (folder / "event_handlers.json").write_text(json.dumps([handler(name, f"conductor:{wf}:done", start=wf)]))
    without = flows.sync()
    assert "events" not in without and name not in {h["name"] for h in client.list_event_handlers()}
    dry = flows.sync(events=True, dry_run=True)
    assert dry["events"]["would_write"] == [name] and name not in {h["name"] for h in client.list_event_handlers()}
    doc = flows.sync(events=True)
    assert written(doc["events"]) == [name] and doc["events"]["failed"] == []
    assert name in {h["name"] for h in client.list_event_handlers()}
    assert flows.sync(events=True)["events"]["unchanged"] == [name]
