"""Write and delete event handlers through the write engine: back up first, one request each, read back once.

The account is what the server holds afterwards, never what was intended. A signal (see
idflow.base.interrupt) stops between requests: the rest is not attempted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from idflow.base.interrupt import Interruption
from idflow.engine.write import Write, WriteResult, execute
from idflow.events.kind import DELETES, KIND as BACKUP_KIND, WRITES
from idflow.events.plan import CREATE, EventPlan, EventPurgePlan

WRITTEN = ("created", "updated")
DELETED = ("deleted",)


def apply_upload(client: Any, plan: EventPlan, *, state_dir: Path, server_url: str = "",
                 interruption: Interruption | None = None) -> WriteResult:
    """POST each new handler, PUT each changed one (after backing up the copies it replaces), verify."""
    writes = [Write(i.name, "created" if i.action == CREATE else "updated", i.desired, replaces=i.actual)
              for i in plan.to_write]
    return execute(client, writes, WRITES, state_dir=state_dir, reason="events-upload", actions=WRITTEN,
                   server_url=server_url, interruption=interruption)


def execute_purge(client: Any, plan: EventPurgePlan, *, state_dir: Path, server_url: str = "",
                  interruption: Interruption | None = None) -> WriteResult:
    """Back up every handler to delete, delete one by one (a signal stops between), read the list back once."""
    writes = [Write(d.name, "deleted", replaces=d.server_copy) for d in plan.deletions]
    return execute(client, writes, DELETES, state_dir=state_dir, reason="events-purge", actions=DELETED,
                   server_url=server_url, interruption=interruption)


__all__ = ["BACKUP_KIND", "DELETED", "WRITTEN", "apply_upload", "execute_purge"]
