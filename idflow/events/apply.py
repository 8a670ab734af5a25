"""Write and delete event handlers: back up first, then one request each, then read the list back once.

The account is what the server holds afterwards, never what was intended. A signal (see
idflow.base.interrupt) stops between requests: the rest is not attempted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idflow.engine.backups import write_backup
from idflow.base.errors import ConductorError, NotFound
from idflow.events.model import differences
from idflow.events.plan import CREATE, EventPlan, EventPurgePlan
from idflow.base.interrupt import Interruption, requested, writing

BACKUP_KIND = "event_handlers"


@dataclass
class WriteResult:
    written: list[str] = field(default_factory=list)            # the server holds exactly the local handler
    failed: list[dict[str, Any]] = field(default_factory=list)  # {"name", "errors"}
    not_attempted: list[str] = field(default_factory=list)       # after a signal
    backup: str | None = None                                    # the server copies the updates replaced
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted

    def to_json(self) -> dict[str, Any]:
        return {"written": list(self.written), "failed": list(self.failed), "not_attempted": list(self.not_attempted),
                "backup": self.backup, "interrupted": self.interrupted}


@dataclass
class DeleteResult:
    deleted: list[str] = field(default_factory=list)             # gone from the server
    failed: list[dict[str, Any]] = field(default_factory=list)   # {"name", "errors"}: the delete failed
    still_present: list[str] = field(default_factory=list)       # the delete answered OK, the server still holds it
    not_attempted: list[str] = field(default_factory=list)       # after a signal
    backup: str | None = None
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.still_present and not self.not_attempted

    def to_json(self) -> dict[str, Any]:
        return {"deleted": list(self.deleted), "failed": list(self.failed), "still_present": list(self.still_present),
                "not_attempted": list(self.not_attempted), "backup": self.backup, "interrupted": self.interrupted}


def apply_upload(client: Any, plan: EventPlan, *, state_dir: Path, server_url: str = "",
                 interruption: Interruption | None = None) -> WriteResult:
    """POST each new handler, PUT each changed one (after backing up the copies it replaces), verify."""
    result = WriteResult()
    items = plan.to_write
    if not items:
        return result
    replaced = [i.actual for i in items if i.actual is not None]
    if replaced:
        result.backup = str(write_backup(state_dir, "events-upload", replaced, server_url=server_url,
                                         kind=BACKUP_KIND))
    errors: dict[str, str] = {}
    with writing(interruption):
        for index, item in enumerate(items):
            if requested(interruption):
                result.not_attempted = [i.name for i in items[index:]]
                items = items[:index]
                break
            try:
                if item.action == CREATE:
                    # Not an upsert: a handler someone created since the plan was read must not be overwritten unseen.
                    client.create_event_handler(item.desired)
                else:
                    client.update_event_handler(item.desired)
            except NotFound:
                errors[item.name] = "deleted from the server since the plan was read; rerun to create it"
            except ConductorError as exc:
                errors[item.name] = exc.message
        result.interrupted = requested(interruption)
        return _verify_writes(client, items, errors, result)


def _verify_writes(client: Any, items: list[Any], errors: dict[str, str], result: WriteResult) -> WriteResult:
    try:
        after = {h["name"]: h for h in client.list_event_handlers()}
    except ConductorError as exc:
        unknown = f"could not read back to verify: {exc.message}"
        result.failed = [{"name": i.name, "errors": [e for e in (errors.get(i.name), unknown) if e]} for i in items]
        return result
    for item in items:
        held = after.get(item.name)
        if held is not None and not differences(held, item.desired):
            result.written.append(item.name)
            continue
        problems = [errors[item.name]] if item.name in errors else []
        if held is None:
            problems.append("not on the server after the write")
        elif item.name not in errors:
            changed = ", ".join(c.path for c in differences(held, item.desired)[:10])
            problems.append(f"the server holds something else after the write (differs in {changed})")
        result.failed.append({"name": item.name, "errors": problems})
    return result


def execute_purge(client: Any, plan: EventPurgePlan, *, state_dir: Path, server_url: str = "",
                  interruption: Interruption | None = None) -> DeleteResult:
    """Back up every handler to delete, delete one by one (a signal stops between), read the list back once."""
    result = DeleteResult()
    if not plan.deletions:
        return result
    result.backup = str(write_backup(state_dir, "events-purge", [d.server_copy for d in plan.deletions],
                                     server_url=server_url, kind=BACKUP_KIND))
    errors: dict[str, str] = {}
    deletions = list(plan.deletions)
    with writing(interruption):
        for index, deletion in enumerate(deletions):
            if requested(interruption):
                result.not_attempted = [d.name for d in deletions[index:]]
                deletions = deletions[:index]
                break
            try:
                client.delete_event_handler(deletion.name)
            except ConductorError as exc:  # NotFound too: "already gone" is for the read-back to say
                errors[deletion.name] = exc.message
        result.interrupted = requested(interruption)
        return _verify_deletes(client, deletions, errors, result)


def _verify_deletes(client: Any, deletions: list[Any], errors: dict[str, str], result: DeleteResult) -> DeleteResult:
    try:
        remaining = {h["name"] for h in client.list_event_handlers()}
    except ConductorError as exc:
        unknown = f"the server could not be read back to confirm the delete: {exc.message}"
        result.failed = [{"name": d.name, "errors": [e for e in (errors.get(d.name), unknown) if e]}
                         for d in deletions]
        return result
    for deletion in deletions:
        if deletion.name not in remaining:
            result.deleted.append(deletion.name)
        elif deletion.name in errors:
            result.failed.append({"name": deletion.name, "errors": [errors[deletion.name]]})
        else:
            result.still_present.append(deletion.name)
    return result
