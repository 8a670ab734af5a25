"""`events import` and `events pull`: event handlers from the server back into the code (issue 25).

Steps: `load_local_handlers`, `fetch_event_handlers` and `fetch_ledger` at the edges; the plans are pure
(`idflow.events.pulling`); the files are written (import: only new files; pull: every file edited in
memory first, then each atomically), read back, and must now match the server; last, the ledger records
the handlers as they are, so they are this project's (import) and the pulled state is the base (pull).
A flow pulling for a branch (`record=False`) leaves the ledger alone: the deployed code has not moved yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.discovery import display_path
from idflow.base.errors import RefusedError
from idflow.pulling.objects import NewFile, ObjectPull, Refusal, rewrite_texts, write_new_files, write_texts
from idflow.usecases.events import (events_diff, fetch_event_handlers, fetch_ledger, load_local_handlers, record_ledger,
                                    write_commit)
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.events.ledger import record_handlers
from idflow.events.pulling import plan_event_import, plan_event_pull


@dataclass
class EventImportOutcome:
    """`events import`: the new handler files written (or to write), those skipped, and any ledger problem."""
    files: list[NewFile] = field(default_factory=list)
    skipped: list[Refusal] = field(default_factory=list)
    dry_run: bool = False
    ledger_problem: str | None = None

    @property
    def ok(self) -> bool:
        """The files are written and recorded as this project's (a refusal raises before anything is)."""
        return self.ledger_problem is None

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "would_write" if self.dry_run else "written":
                [f.to_json() for f in self.files], "skipped": [s.to_json() for s in self.skipped],
                "ledger_problem": self.ledger_problem}


def events_import(session: Session, *, names: Iterable[str] = (), dry_run: bool = False,
                  run: StepRunner = direct) -> EventImportOutcome:
    """`events import NAME...|--all-unmanaged` (all: no names)."""
    names = list(names)
    config = session.config
    local = run(load_local_handlers, config)
    remote = run(fetch_event_handlers, session)
    ledger = run(fetch_ledger, session)
    files, skipped = plan_event_import(local, remote, ledger, Path(display_path(config.resolve(config.workflows_dir))), names)
    if names and skipped:
        raise RefusedError("cannot import " + "; ".join(f"{s.name}: {s.reason}" for s in skipped)
                           + "; nothing was written")
    outcome = EventImportOutcome(files, skipped, dry_run)
    if dry_run or not files:
        return outcome
    write_new_files(files)
    imported = [n for f in files for n in f.names]
    _check_matches(session, imported, "imported", run)
    if ledger is not None:
        on_server = {h["name"]: h for h in remote}
        outcome.ledger_problem = run(record_ledger, session, record_handlers(
            ledger, {n: on_server[n] for n in imported}, write_commit(session)))
    return outcome


def _check_matches(session: Session, names: list[str], what: str, run: StepRunner) -> None:
    plan = events_diff(session, names=names, run=run)
    differ = [i.name for i in plan.items if i.changes or i.action != "same"]
    if differ:
        raise RefusedError(f"the {what} handler(s) {', '.join(differ)} do not read back as the server's; the "
                           "files were written, the ledger was not", hint="'idflow events diff' shows the difference")


@dataclass
class EventPullOutcome:
    """`events pull`: the server edits pulled into handler files, those refused, and the files rewritten."""
    pulls: list[ObjectPull] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)     # conflicts and handlers with no base: not pulled
    dry_run: bool = False
    written: list[str] = field(default_factory=list)         # the files rewritten
    ledger_problem: str | None = None

    @property
    def ok(self) -> bool:
        """The files are written and recorded as this project's (a refusal raises before anything is)."""
        return self.ledger_problem is None

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "pulled": [p.to_json() for p in self.pulls],
                "refused": [r.to_json() for r in self.refused], "files": list(self.written),
                "ledger_problem": self.ledger_problem}


def events_pull(session: Session, *, names: Iterable[str] = (), dry_run: bool = False, partial: bool = False,
                record: bool = True, run: StepRunner = direct) -> EventPullOutcome:
    """`events pull NAME...|--all`. A conflict refuses the whole pull, unless `partial` (the sync flow's
    pull policy), which pulls what it can and reports the rest as refused."""
    local = run(load_local_handlers, session.config)
    remote = run(fetch_event_handlers, session)
    ledger = run(fetch_ledger, session)
    pulls, refused = plan_event_pull(local, remote, ledger, names)
    if refused and not partial:
        raise RefusedError(f"{len(refused)} handler(s) cannot be pulled: "
                           + "; ".join(f"{r.name}: {r.reason}" for r in refused[:5]) + "; nothing was pulled",
                           hint="'idflow events diff' shows both sides")
    outcome = EventPullOutcome(pulls, refused, dry_run)
    if dry_run or not pulls:
        return outcome
    texts = rewrite_texts(pulls)
    write_texts(texts)
    outcome.written = sorted(texts)
    _check_matches(session, [p.name for p in pulls], "pulled", run)
    if record and ledger is not None:
        on_server = {h["name"]: h for h in remote}
        outcome.ledger_problem = run(record_ledger, session,
                                     record_handlers(ledger, {p.name: on_server[p.name] for p in pulls},
                                                     write_commit(session)))
    return outcome
