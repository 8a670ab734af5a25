"""The sync's policy for definitions edited on the server since idflow wrote them (issue 25).

`server_edits:` per environment (`idflow.project.config.SERVER_EDITS`):
- refuse (the default): report them and write nothing (task definitions: the upload's guard refuses;
  event handlers: refused here, before anything is written);
- overwrite: revert them to the code (the upload's --overwrite-server-edits; handlers are replaced);
- pull: bring them into the code. Task files and event_handlers.json files are rewritten, committed on
  `server_edits_branch` and pushed for review, never to the deployed branch; then the checkout is put back
  as it was and the sync leaves those definitions as they are on the server. The base does not move (the
  deployed code has not), so until the branch is merged each run finds the same edits and pushes nothing
  new. A conflict (the code changed too) is refused as ever.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from idflow.base.errors import IdflowError, ServerEditsRefused
from idflow.pulling.files import replace_bytes
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.events.pulling import plan_event_pull
from idflow.project.config import SERVER_EDITS
from idflow.provenance.branch import branch_name, commit_to_branch
from idflow.pulling.threeway import CONFLICT, REASONS
from idflow.usecases.events import fetch_event_handlers, fetch_ledger, load_local_handlers
from idflow.usecases.events_pull import events_pull
from idflow.usecases.pull import pull


@dataclass(frozen=True)
class ServerEdit:
    """A server edit pulled into the code for review: a task or event handler, its file, and what changed."""
    kind: str                  # task | event handler
    name: str
    path: str                  # the file it was pulled into
    changes: Any               # task: {keyword: value}; handler: the changed paths

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "path": self.path, "changes": self.changes}


@dataclass(frozen=True)
class HeldBack:
    """A server edit the policy may not act on (a conflict, or an edit an upload would revert), and why."""
    kind: str
    name: str
    reason: str                # a conflict, or (refuse) an edit an upload would revert

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "reason": self.reason}


@dataclass
class ServerEditsOutcome:
    """What the sync's server_edits policy did: the edits pulled, those refused, and the review branch."""
    policy: str
    edits: list[ServerEdit] = field(default_factory=list)
    refused: list[HeldBack] = field(default_factory=list)
    branch: dict[str, Any] | None = None                           # PushedBranch.to_json()
    dry_run: bool = False
    left_tasks: list[str] = field(default_factory=list)            # pulled for review: the sync leaves them
    left_handlers: list[str] = field(default_factory=list)

    @property
    def reportable(self) -> bool:
        """Anything to say: a document without it stays the one a sync without server edits prints."""
        return bool(self.edits or self.refused)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ServerEditsOutcome":
        return cls(data["policy"], [ServerEdit(**e) for e in data.get("edits") or []],
                   [HeldBack(**r) for r in data.get("refused") or []], data.get("branch"), bool(data.get("dry_run")))

    def problem(self) -> str | None:
        """Why the sync must not go on (None: it may)."""
        if not self.refused:
            return None
        listed = "; ".join(f"{r.kind} {r.name}: {r.reason}" for r in self.refused[:5])
        return f"{len(self.refused)} definition(s) edited on the server cannot be {self._verb()}: {listed}"

    def _verb(self) -> str:
        return "pulled" if self.policy == "pull" else "overwritten unseen"

    def to_json(self) -> dict[str, Any]:
        return {"policy": self.policy, "dry_run": self.dry_run, "edits": [e.to_json() for e in self.edits],
                "refused": [r.to_json() for r in self.refused], "branch": self.branch}


def resolve_policy(config: Any, asked: str | None, overwrite_server_edits: bool) -> str:
    policy = "overwrite" if overwrite_server_edits else asked or config.server_edits
    if policy not in SERVER_EDITS:
        raise IdflowError(f"server_edits must be one of {', '.join(SERVER_EDITS)}, got {policy!r}")
    return policy


def handle_server_edits(session: Session, *, policy: str, events: bool = False, dry_run: bool = False,
                        push: bool = True, run: StepRunner = direct) -> ServerEditsOutcome:
    """Before a sync writes anything: apply `policy` to what was edited on the server (see the module).
    Raises ServerEditsRefused (exit 3, the outcome in its `doc`) when something may be neither written nor
    pulled: a conflict, or under refuse an edited event handler (task definitions: the upload's guard)."""
    outcome = ServerEditsOutcome(policy, dry_run=dry_run)
    if policy == "refuse" and events:
        _refuse_event_edits(session, outcome, run)
    elif policy == "pull":
        _pull(session, outcome, events=events, dry_run=dry_run, push=push, run=run)
    if outcome.problem():
        raise ServerEditsRefused(outcome.problem() + "; nothing was written", outcome.to_json(),
                                 hint="resolve them in the code by hand, or set server_edits: overwrite")
    return outcome


def _refuse_event_edits(session: Session, outcome: ServerEditsOutcome, run: StepRunner) -> None:
    pulls, refused = plan_event_pull(run(load_local_handlers, session.config), run(fetch_event_handlers, session),
                                     run(fetch_ledger, session))
    why = "edited on the server since idflow uploaded it, its file unchanged: an upload would revert it"
    outcome.refused += [HeldBack("event handler", p.name, why) for p in pulls]
    outcome.refused += [HeldBack("event handler", r.name, r.reason) for r in refused if r.reason == REASONS[CONFLICT]]


def _pull(session: Session, outcome: ServerEditsOutcome, *, events: bool, dry_run: bool, push: bool,
          run: StepRunner) -> None:
    """Pull into the checkout, commit and push, then put the checkout back as it was: the deployed code
    has not moved, so the sync that follows leaves these definitions as they are (`left`)."""
    looked = pull(session, partial=True, dry_run=True, run=run)
    handlers = _event_pull(session, dry_run=True, run=run) if events else None
    paths = {p.path for p in looked.pulls} | {p.path for p in (handlers.pulls if handlers else [])}
    before = {path: Path(path).read_bytes() for path in paths}
    try:
        tasks = looked if dry_run else pull(session, partial=True, stamp=False, run=run)
        if events and not dry_run:
            handlers = _event_pull(session, dry_run=False, run=run)
        late = {p.path for p in tasks.pulls} | {p.path for p in (handlers.pulls if handlers else [])}
        if late - paths:  # edited on the server between the look and the pull: not snapshotted, so not put back
            raise ServerEditsRefused("definitions were edited on the server during the sync; "
                                     f"{', '.join(sorted(late - paths))} now hold the server's values and were not "
                                     "pushed; nothing was written to the server", hint="run the sync again")
        _account(outcome, tasks, handlers)
        if paths and push and not dry_run:
            outcome.branch = run(push_pulled, session, sorted(paths), outcome.edits).to_json()
    finally:
        for path, content in before.items():
            if Path(path).read_bytes() != content:
                replace_bytes(path, content)


def _event_pull(session: Session, *, dry_run: bool, run: StepRunner) -> Any:
    return events_pull(session, partial=True, record=False, dry_run=dry_run, run=run)


def _account(outcome: ServerEditsOutcome, tasks: Any, handlers: Any) -> None:
    outcome.edits += [ServerEdit("task", p.name, p.path, {e.keyword: e.value for e in p.edits}) for p in tasks.pulls]
    outcome.refused += [HeldBack("task", n, "changed on the server and in the code (a conflict)")
                        for n in tasks.conflicts]
    outcome.left_tasks = [p.name for p in tasks.pulls]
    if handlers is not None:
        outcome.edits += [ServerEdit("event handler", p.name, p.path, list(p.changes)) for p in handlers.pulls]
        # Only conflicts: a handler idflow has no base for is the upload's, as under refuse.
        outcome.refused += [HeldBack("event handler", r.name, r.reason) for r in handlers.refused
                            if r.reason == REASONS[CONFLICT]]
        outcome.left_handlers = [p.name for p in handlers.pulls]


def push_pulled(session: Session, files: list[str], edits: list[ServerEdit]) -> Any:
    """Commit the pulled files on the environment's server-edits branch and push it."""
    config = session.config
    names = ", ".join(e.name for e in edits[:10]) + (" ..." if len(edits) > 10 else "")
    message = (f"Server edits on {config.environment or 'the server'}: {names}\n\n"
               "Pulled by idflow's sync (server_edits: pull): review and merge to keep them.\n")
    return commit_to_branch(config.base_dir, files, branch_name(config.server_edits_branch, config.environment),
                            message)
