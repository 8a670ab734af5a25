"""Event handlers as code: list, diff, upload, purge (the `idflow events` commands and the sync flow).

Steps: `load_local_handlers`, `fetch_event_handlers` and `fetch_ledger` / `record_ledger` at the
edges, `plan_event_upload` / `plan_event_purge` pure (named apart from the TaskDef steps, as the
flows show each step by name), `write_handlers` / `delete_handlers` back up, write
or delete, and read back once.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from idflow.engine.write import WriteResult
from idflow.events import (DELETED, WRITTEN, EventPlan, EventPurgePlan, LocalHandlers, apply_upload,
                           execute_purge, load_event_handler_files, plan_purge, plan_upload)
from idflow.events.plan import issue_json
from idflow.base.errors import IdflowError, EventFilesInvalid, NotFound, RefusedError
from idflow.engine.ledger import Ledger, ledger_name, read_ledger
from idflow.events.ledger import handler_hashes_in, is_handlers_path, record_handlers
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.discovery import display_path
from idflow.events.pulling import unseen_reverts
from idflow.provenance.seen import SeenInGit, head_commit, read_seen


def load_local_handlers(config: Any) -> LocalHandlers:
    return load_event_handler_files(display_path(config.resolve(config.workflows_dir)))


def fetch_event_handlers(session: Session) -> list[dict[str, Any]]:
    return session.client.list_event_handlers()


def fetch_ledger(session: Session, kind: str = "events") -> Ledger | None:
    """This project's record of the handlers (or, kind workflows, workflow versions) it uploaded (None: no
    identity, so nothing is provably ours)."""
    project = session.config.project_name
    if not project:
        return None
    try:
        return read_ledger(project, session.client.get_taskdef(ledger_name(project, kind)), kind)
    except NotFound:
        return Ledger(project, kind=kind)


def write_commit(session: Session) -> str:
    """The HEAD this project's workflow and handler files are written from ("" outside Git): a ledger records
    it with each object (idflow.provenance.seen)."""
    return head_commit(Path(session.config.resolve(session.config.workflows_dir)))


def record_ledger(session: Session, ledger: Ledger) -> str | None:
    """Write the ledger; a failure is reported, never raised: the handlers are written either way, and a
    handler the ledger misses is only ever kept (why on failure, None on success)."""
    try:
        session.client.upsert_taskdefs([ledger.taskdef()])
    except IdflowError as exc:
        return f"the ledger of this project's handlers could not be written ({exc.message}): handlers it misses " \
               "are kept by 'events purge --orphaned' until the next upload records them"
    return None


def plan_event_upload(local: LocalHandlers, remote: list[dict[str, Any]], *,
                      names: list[str] | None = None) -> EventPlan:
    return plan_upload(local, remote, names=names)


def plan_event_purge(local: LocalHandlers, remote: list[dict[str, Any]], ledger: Ledger | None,
                     seen: SeenInGit | None, **kw: Any) -> EventPurgePlan:
    return plan_purge(local, remote, ledger, seen, **kw)


def read_handlers_seen(config: Any, ledger: Ledger) -> SeenInGit | None:
    """Every handler this clone's Git history held, those HEAD holds, and which of the ledger's commits are in
    its history (None: not in Git)."""
    return read_seen(Path(config.resolve(config.workflows_dir)), is_handlers_path, handler_hashes_in,
                     ledger.commits.values())


def write_handlers(session: Session, plan: EventPlan) -> WriteResult:
    return apply_upload(session.client, plan, state_dir=session.state_dir, server_url=session.config.safe_api_url,
                        interruption=session.interruption)


def delete_handlers(session: Session, plan: EventPurgePlan) -> WriteResult:
    return execute_purge(session.client, plan, state_dir=session.state_dir, server_url=session.config.safe_api_url,
                         interruption=session.interruption)


# ---- list -------------------------------------------------------------------------------------------------

@dataclass
class EventListing:
    """`events list`: the local handlers, the server's, or both side by side (`view`)."""

    view: str                                            # local | remote | sync
    local: LocalHandlers | None = None
    remote: list[dict[str, Any]] | None = None
    plan: EventPlan | None = None                        # sync only

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"view": self.view}
        if self.view == "local" and self.local is not None:
            doc["handlers"] = [{"name": h.name, "event": h.definition.get("event"),
                                "active": bool(h.definition.get("active", False)), "source": h.where}
                               for h in self.local.handlers]
            doc["files"] = list(self.local.files)
            doc["errors"] = [issue_json(i) for i in self.local.issues]
            doc["warnings"] = [issue_json(i) for i in self.local.warnings]
        elif self.view == "remote" and self.remote is not None:
            doc["handlers"] = [{"name": h["name"], "event": h.get("event"), "active": bool(h.get("active", False))}
                               for h in self.remote]
        elif self.plan is not None:
            doc.update(self.plan.to_json())
        return doc


def events_list(session: Session, *, view: str = "sync", run: StepRunner = direct) -> EventListing:
    if view == "local":
        return EventListing(view, local=run(load_local_handlers, session.config))
    if view == "remote":
        return EventListing(view, remote=run(fetch_event_handlers, session))
    local = run(load_local_handlers, session.config)
    remote = run(fetch_event_handlers, session)
    return EventListing(view, local=local, remote=remote, plan=run(plan_event_upload, local, remote))


# ---- diff / upload ----------------------------------------------------------------------------------------

def events_diff(session: Session, *, names: Iterable[str] | None = None, run: StepRunner = direct) -> EventPlan:
    """What `events upload` would change, field by field (`drift`: something to write)."""
    local = run(load_local_handlers, session.config)
    remote = run(fetch_event_handlers, session)
    return run(plan_event_upload, local, remote, names=list(names or []) or None)


@dataclass
class EventUploadOutcome:
    """`events upload`: the plan, what was written and read back, and whether the ledger recorded it."""
    plan: EventPlan
    result: WriteResult | None = None        # None: dry run, or nothing to write
    dry_run: bool = False
    ledger_problem: str | None = None        # the handlers were written but not recorded as this project's

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def problems(self) -> list[str]:
        """What a flow run reports as not done (empty: everything written and verified)."""
        if self.result is None or self.result.ok:
            return []
        bad = [f["name"] for f in self.result.failed + self.result.unknown] + self.result.not_attempted
        return [f"{len(bad)} event handler(s) not written or not verified: {', '.join(bad[:20])}"]

    def to_json(self) -> dict[str, Any]:
        result = self.result or WriteResult.empty(WRITTEN)
        return {**result.to_json(), "dry_run": self.dry_run,
                "would_write": self.plan.names("create", "update") if self.dry_run else [],
                "unchanged": self.plan.names("same"), "plan": self.plan.to_json(),
                "ledger_problem": self.ledger_problem}




def events_upload(session: Session, *, names: Iterable[str] | None = None, dry_run: bool = False,
                  leave: Iterable[str] = (), overwrite_server_edits: bool = False,
                  run: StepRunner = direct) -> EventUploadOutcome:
    """`events upload NAME...|--all` (all: names None), and the sync flow's event step (`leave`: handlers
    it leaves as they are, server edits its pull policy sent for review). Refused (exit 3, nothing written)
    when it would revert an edit made on the server since this project's ledger recorded the handler,
    unless `overwrite_server_edits`."""
    wanted = list(names or [])
    local = run(load_local_handlers, session.config)
    if local.issues and not wanted:
        raise EventFilesInvalid(f"{len(local.issues)} problem(s) in the event_handlers.json files; nothing was "
                                "written", local.issues)
    remote = run(fetch_event_handlers, session)
    plan = run(plan_event_upload, local, remote, names=wanted or None)
    left = set(leave)
    plan.items = [i for i in plan.items if i.action != "remote_only" and i.name not in left]
    if dry_run or not plan.to_write:
        return EventUploadOutcome(plan, dry_run=dry_run)
    ledger = run(fetch_ledger, session)
    if not overwrite_server_edits:
        _refuse_unseen_reverts(plan, ledger)
    result = run(write_handlers, session, plan)
    written = result.created + result.updated
    if ledger is None or not written:
        return EventUploadOutcome(plan, result)
    desired = {i.name: i.desired for i in plan.to_write if i.desired is not None}
    recorded = record_handlers(ledger, {name: desired[name] for name in written if name in desired},
                               write_commit(session))
    return EventUploadOutcome(plan, result, ledger_problem=run(record_ledger, session, recorded))


def _refuse_unseen_reverts(plan: EventPlan, ledger: Ledger | None) -> None:
    found = unseen_reverts(plan.of("update"), ledger)
    if found:
        raise RefusedError(f"{len(found)} handler(s) would revert an edit made on the server: "
                           + "; ".join(f"{r.name}: {r.reason}" for r in found[:5]) + "; nothing was written",
                           hint="'idflow events pull' brings the edit into the file; --overwrite-server-edits "
                                "replaces it with the file")


# ---- purge ------------------------------------------------------------------------------------------------

@dataclass
class EventPurgeOutcome:
    """`events purge`: the plan, and what was deleted and read back (nothing on a dry run)."""
    plan: EventPurgePlan
    result: WriteResult | None = None       # None: dry run, or nothing to delete

    @property
    def dry_run(self) -> bool:
        return self.result is None and bool(self.plan.deletions)

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def to_json(self) -> dict[str, Any]:
        result = self.result or WriteResult.empty(DELETED)
        return {**result.to_json(), "dry_run": self.dry_run,
                "would_delete": [d.name for d in self.plan.deletions] if self.dry_run else [],
                "skipped": self.plan.to_json()["skipped"], "plan": self.plan.to_json()}


def events_purge(session: Session, *, names: Iterable[str] = (), orphaned: bool = False, dry_run: bool = False,
                 confirm: Confirm | None = None, run: StepRunner = direct) -> EventPurgeOutcome:
    """`events purge NAME...|--orphaned`: plan, show and ask (confirm), back up, delete, read back."""
    local = run(load_local_handlers, session.config)
    remote = run(fetch_event_handlers, session)
    ledger = run(fetch_ledger, session)
    seen = run(read_handlers_seen, session.config, ledger) if orphaned and ledger is not None else None
    plan = run(plan_event_purge, local, remote, ledger, seen, names=list(names), orphaned=orphaned)
    if dry_run or not plan.deletions:
        return EventPurgeOutcome(plan)
    if confirm is not None:
        confirm(plan)
    result = run(delete_handlers, session, plan)
    if ledger is not None and set(result.deleted) & set(ledger.entries):
        run(record_ledger, session, ledger.without(result.deleted))  # a stale entry is harmless: see the ledger
    return EventPurgeOutcome(plan, result)
