"""What an upload or a purge of event handlers would do (pure: local files and server copies in, a plan out)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from idflow.conductor.paths import addressable
from idflow.base.errors import IdflowError, RefusedError, UnaddressableName
from idflow.events.files import LocalHandlers
from idflow.engine.ledger import Ledger
from idflow.events.ledger import handler_hash, ownership_doubt
from idflow.events.model import Change, differences, wire
from idflow.provenance.seen import SeenInGit, history_doubt

CREATE, UPDATE, SAME, REMOTE_ONLY = "create", "update", "same", "remote_only"


@dataclass
class HandlerItem:
    """One event handler in an upload plan: create, update, same or remote only, with both copies and the changes."""
    name: str
    action: str                                  # create | update | same | remote_only
    source: str | None = None                    # file:line of the local definition
    desired: dict[str, Any] | None = None        # the body idflow writes
    actual: dict[str, Any] | None = None         # the server copy
    changes: list[Change] = field(default_factory=list)

    @property
    def writes(self) -> bool:
        return self.action in (CREATE, UPDATE)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "action": self.action, "source": self.source,
                "changes": [c.to_json() for c in self.changes]}


@dataclass
class EventPlan:
    """What an event-handler upload would do: one item per handler, plus the files' errors and warnings."""
    items: list[HandlerItem] = field(default_factory=list)
    errors: list[Any] = field(default_factory=list)      # FileIssue
    warnings: list[Any] = field(default_factory=list)    # FileIssue

    def of(self, *actions: str) -> list[HandlerItem]:
        return [i for i in self.items if i.action in actions]

    def names(self, *actions: str) -> list[str]:
        return [i.name for i in self.of(*actions)]

    @property
    def to_write(self) -> list[HandlerItem]:
        return [i for i in self.items if i.writes]

    @property
    def drift(self) -> bool:
        return bool(self.to_write)

    def to_json(self) -> dict[str, Any]:
        counts = {a: len(self.of(a)) for a in (CREATE, UPDATE, SAME, REMOTE_ONLY)}
        return {"drift": self.drift, "counts": counts, "create": self.names(CREATE), "update": self.names(UPDATE),
                "same": self.names(SAME), "remote_only": self.names(REMOTE_ONLY),
                "handlers": [i.to_json() for i in self.items],
                "errors": [issue_json(i) for i in self.errors], "warnings": [issue_json(i) for i in self.warnings]}


def issue_json(issue: Any) -> dict[str, Any]:
    return {"path": issue.path, "line": issue.line, "message": issue.message}


def plan_upload(local: LocalHandlers, remote: list[dict[str, Any]], *,
                names: Iterable[str] | None = None) -> EventPlan:
    """Each local handler against the server copy of the same name; with no names, also what is only remote."""
    wanted = list(dict.fromkeys(names or []))
    by_name = local.by_name()
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise IdflowError(f"no valid local event handler named {', '.join(map(repr, unknown))}",
                          hint=f"local handlers: {', '.join(sorted(by_name)) or 'none'} ('idflow events list --local')")
    on_server = {h["name"]: h for h in remote}
    plan = EventPlan(errors=list(local.issues), warnings=list(local.warnings))
    for handler in (by_name[n] for n in wanted) if wanted else local.handlers:
        actual = on_server.get(handler.name)
        desired = wire(handler.definition)
        if actual is None:
            plan.items.append(HandlerItem(handler.name, CREATE, handler.where, desired))
            continue
        changes = differences(actual, desired)
        plan.items.append(HandlerItem(handler.name, UPDATE if changes else SAME, handler.where, desired, actual,
                                      changes))
    if not wanted:
        for name, actual in on_server.items():
            if name not in by_name:
                plan.items.append(HandlerItem(name, REMOTE_ONLY, actual=actual))
    return plan


# ---- purge ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class HandlerDeletion:
    """One event handler a purge deletes (named or orphaned), with the server copy it backs up first."""
    name: str
    reason: str                      # "named" | "orphaned"
    server_copy: dict[str, Any]
    note: str = ""


@dataclass(frozen=True)
class HandlerSkip:
    """One event handler a purge keeps, and why."""
    name: str
    reason: str


@dataclass
class EventPurgePlan:
    """What an event-handler purge would do: the handlers it deletes and those it keeps."""
    deletions: list[HandlerDeletion] = field(default_factory=list)
    skipped: list[HandlerSkip] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"delete": [{"name": d.name, "reason": d.reason, "note": d.note, "server_copy": d.server_copy}
                           for d in self.deletions],
                "skipped": [{"name": s.name, "reason": s.reason} for s in self.skipped]}


def plan_purge(local: LocalHandlers, remote: list[dict[str, Any]], ledger: Ledger | None, seen: SeenInGit | None, *,
               names: Iterable[str] = (), orphaned: bool = False) -> EventPurgePlan:
    """Which remote handlers go, and why each other candidate stays.

    Named handlers go as asked (a name not on the server, or one the server cannot
    address, refuses the whole run). With `orphaned`, a handler goes only when it is in
    no local file, this project's ledger names it as written (`idflow.events.ledger`) and this clone's Git
    history held it so (`seen`, idflow.provenance.seen; None: not in Git).
    """
    on_server = {h["name"]: h for h in remote}
    wanted = list(dict.fromkeys(names))
    missing = [n for n in wanted if n not in on_server]
    if missing:
        raise IdflowError(f"no event handler named {', '.join(map(repr, missing))} on the server; nothing was deleted",
                          hint="'idflow events list --remote' shows what is there")
    unreachable = [(n, why) for n in wanted if (why := addressable(n))]
    if unreachable:
        raise UnaddressableName(unreachable, what="event handler")
    plan = EventPurgePlan()
    for name in wanted:
        note = "still in a local event_handlers.json: the next upload recreates it" if name in local.mentioned else ""
        plan.deletions.append(HandlerDeletion(name, "named", on_server[name], note))
    if not orphaned:
        return plan
    if local.issues:
        raise RefusedError(f"{len(local.issues)} problem(s) in the local event_handlers.json files: a handler in a "
                           "file that cannot be read is not an orphan, so nothing was deleted",
                           hint="fix the files ('idflow events list --local')")
    for name, handler in on_server.items():
        if name in wanted or name in local.mentioned:
            continue
        reason = ownership_doubt(name, handler, ledger) or (
            history_doubt(name, handler_hash(handler), seen, ledger.commits.get(name)) if ledger else None) or (
            f"cannot be deleted exactly on this server: {why}" if (why := addressable(name)) else None)
        if reason:
            plan.skipped.append(HandlerSkip(name, reason))
        else:
            plan.deletions.append(HandlerDeletion(name, "orphaned", handler))
    return plan
