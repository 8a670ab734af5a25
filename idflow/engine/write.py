"""The one write loop every kind of definition shares: back up, write in bounded batches, read back, account.

Every write path (upload, purge, restore, rollback, adopt, import's stamp; task definitions,
event handlers, workflows) hands this a list of `Write`s and a `Target` (how its kind is
sent and read back). The loop:

1. backs up every server copy a write replaces or deletes, before the first request;
2. sends the writes in batches of `target.batch_size` (one request per batch), at most
   `target.concurrency` at a time; the client retries each idempotent request (see
   conductor/client.py), a flow retries the step (see flows/runner.py);
3. stops between batches on a signal (see base/interrupt.py) and, for a target that says so,
   after a failed batch: the rest is not attempted;
4. reads back once and sorts every write into done (the server holds what was planned,
   whatever the answer was), failed (it does not), unknown (the read-back itself failed) or
   not attempted.

The account is what the server holds afterwards, never what was intended; a rerun converges
because the next plan sees what is there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Protocol, Sequence

from idflow.base.errors import ConductorError, TransientError
from idflow.base.interrupt import Interruption, requested, writing
from idflow.base.progress import Progress
from idflow.engine.backups import write_backup

Ref = str | dict[str, Any]          # how the account names a definition: "name", or {"name", "version"}


def ref_key(ref: Ref) -> str:
    """The text form of a ref, unique within one kind: "name", or "name v3"."""
    return ref if isinstance(ref, str) else f"{ref['name']} v{ref['version']}"


@dataclass(frozen=True)
class Write:
    """One planned change: `body` sent (None: a delete), `replaces` backed up first."""

    ref: Ref
    action: str                              # the account's word once done: created, updated, deleted, ...
    body: dict[str, Any] | None = None
    replaces: dict[str, Any] | None = None   # the server copy this overwrites or deletes

    @property
    def key(self) -> str:
        return ref_key(self.ref)


@dataclass(frozen=True)
class Unreadable:
    """A read-back value: this one definition could not be read, so whether it was written is unknown."""

    reason: str


class Target(Protocol):
    """How one kind of definition is written and read back (each kind module provides its own)."""

    kind: str              # the backup kind: "taskdefs", "event_handlers", "workflows"
    batch_size: int        # definitions per request; 1: one request each
    concurrency: int       # requests in flight at once
    stop_on_failure: bool  # a failed batch stops the loop (the server is likely refusing all of it)

    def send(self, client: Any, batch: Sequence[Write]) -> None: ...

    def read_back(self, client: Any, writes: Sequence[Write]) -> Mapping[str, Any]:
        """The server's copy per write key: a dict, None (absent) or `Unreadable`."""

    def problems(self, write: Write, held: dict[str, Any] | None) -> list[str]:
        """Why the server's copy does not hold what `write` planned (empty: it does)."""


@dataclass(frozen=True)
class Endpoint:
    """A `Target` made of a kind's functions: what each kind module declares for its writes and deletes."""

    kind: str
    send_batch: Callable[[Any, Sequence[Write]], None]
    read: Callable[[Any, Sequence[Write]], Mapping[str, Any]]
    check: Callable[[Write, "dict[str, Any] | None"], list[str]]
    batch_size: int = 1
    concurrency: int = 1
    stop_on_failure: bool = False

    def send(self, client: Any, batch: Sequence[Write]) -> None:
        self.send_batch(client, batch)

    def read_back(self, client: Any, writes: Sequence[Write]) -> Mapping[str, Any]:
        return self.read(client, writes)

    def problems(self, write: Write, held: dict[str, Any] | None) -> list[str]:
        return self.check(write, held)


STILL_PRESENT = "the delete was answered, yet the server still holds it"


def gone(write: Write, held: dict[str, Any] | None) -> list[str]:
    """The check of a delete: done when the server no longer holds it."""
    return [] if held is None else [STILL_PRESENT]


FIXED_KEYS = ("failed", "unknown", "not_attempted", "backup", "interrupted", "requests")


@dataclass
class WriteResult:
    """The account of one write: the document every write operation embeds, the same from CLI and flow."""

    done: dict[str, list[Ref]] = field(default_factory=dict)   # action -> refs the server now holds as planned
    failed: list[dict[str, Any]] = field(default_factory=list)  # {**ref, "errors"}: not written
    unknown: list[dict[str, Any]] = field(default_factory=list)  # {**ref, "errors"}: sent, could not be read back
    not_attempted: list[Ref] = field(default_factory=list)     # never sent: a signal, or a failed batch before
    backup: str | None = None
    interrupted: bool = False
    requests: dict[str, int] = field(default_factory=dict)
    # The failure that stopped the writes, when a retry of the same step may succeed (flows/runner.py).
    transient: TransientError | None = field(default=None, repr=False, compare=False)

    @classmethod
    def empty(cls, actions: Iterable[str]) -> "WriteResult":
        return cls(done={action: [] for action in actions})

    def of(self, action: str) -> list[Ref]:
        return self.done.get(action, [])

    def __getattr__(self, action: str) -> list[Ref]:
        """`result.created`, `result.deleted`, ...: the refs done with that action (only the declared ones)."""
        done = self.__dict__.get("done")
        if done is not None and action in done:
            return done[action]
        raise AttributeError(f"{type(self).__name__} has no attribute {action!r}")

    @property
    def ok(self) -> bool:
        return not self.failed and not self.unknown and not self.not_attempted

    @property
    def not_written(self) -> list[Ref]:
        return [_ref_of(f) for f in self.failed] + list(self.not_attempted)

    def to_json(self) -> dict[str, Any]:
        return {**{action: list(refs) for action, refs in self.done.items()}, "failed": list(self.failed),
                "unknown": list(self.unknown), "not_attempted": list(self.not_attempted), "backup": self.backup,
                "interrupted": self.interrupted, "requests": dict(self.requests)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], actions: Iterable[str] | None = None) -> "WriteResult":
        """From `to_json`'s document (alone, or inside an operation's: then say which keys are actions)."""
        if actions is None:
            actions = [k for k in data if k not in FIXED_KEYS]
        return cls(done={a: list(data.get(a) or []) for a in actions}, failed=list(data.get("failed") or []),
                   unknown=list(data.get("unknown") or []), not_attempted=list(data.get("not_attempted") or []),
                   backup=data.get("backup"), interrupted=bool(data.get("interrupted")),
                   requests=dict(data.get("requests") or {}))


def _ref_of(entry: dict[str, Any]) -> Ref:
    return {k: v for k, v in entry.items() if k != "errors"} if "version" in entry else entry["name"]


def _entry(write: Write, errors: list[str]) -> dict[str, Any]:
    ref = write.ref if isinstance(write.ref, dict) else {"name": write.ref}
    return {**ref, "errors": errors}


def execute(client: Any, writes: Sequence[Write], target: Target, *, state_dir: Path | None, reason: str,
            actions: Iterable[str], server_url: str = "", progress: Progress | None = None,
            interruption: Interruption | None = None) -> WriteResult:
    """Back up, send in batches, read back once, account: see the module docstring."""
    result = WriteResult.empty(actions)
    before = dict(client.stats.by_method) if hasattr(client, "stats") else {}
    if not writes:
        return result
    replaced = [w.replaces for w in writes if w.replaces is not None]
    if replaced and state_dir is not None:
        result.backup = str(write_backup(state_dir, reason, replaced, server_url=server_url, kind=target.kind))
    with writing(interruption):
        attempted, answers, failure = _send(client, writes, target, progress, interruption)
    result.interrupted = requested(interruption)
    sent = {w.key for w in attempted}
    result.not_attempted = [w.ref for w in writes if w.key not in sent]
    _account(client, attempted, answers, target, result)
    if isinstance(failure, TransientError) and not result.ok:
        result.transient = failure
    if hasattr(client, "stats"):
        result.requests = {m: n - before.get(m, 0) for m, n in client.stats.by_method.items()
                           if n - before.get(m, 0)}
    return result


def _send(client: Any, writes: Sequence[Write], target: Target, progress: Progress | None,
          interruption: Interruption | None) -> tuple[list[Write], dict[str, list[str]], ConductorError | None]:
    size = max(1, target.batch_size)
    batches = [list(writes[i:i + size]) for i in range(0, len(writes), size)]
    attempted: list[Write] = []
    answers: dict[str, list[str]] = {}     # key -> what the server answered to a failed request
    failures: list[ConductorError] = []
    done = 0

    def send(batch: list[Write]) -> list[Write]:
        if requested(interruption) or (failures and target.stop_on_failure):
            return []                      # not started: no new request after a signal or a stopping failure
        try:
            target.send(client, batch)
        except ConductorError as exc:
            failures.append(exc)
            reasons = list(getattr(exc, "errors", None) or [exc.message])
            answers.update({w.key: reasons for w in batch})
        return batch

    if target.concurrency <= 1:
        outcomes = (send(batch) for batch in batches)
        for sent in outcomes:
            if not sent:
                break
            attempted += sent
            done += len(sent)
            if progress is not None:
                progress(done, len(writes))
    else:
        from concurrent.futures import ThreadPoolExecutor  # with logging: only when writes run side by side

        with ThreadPoolExecutor(max_workers=target.concurrency) as pool:
            for sent in pool.map(send, batches):   # in order: the count only grows
                attempted += sent
                done += len(sent)
                if progress is not None and sent:
                    progress(done, len(writes))
    return attempted, answers, (failures[0] if failures else None)


def _account(client: Any, attempted: list[Write], answers: dict[str, list[str]], target: Target,
             result: WriteResult) -> None:
    if not attempted:
        return
    try:
        held = target.read_back(client, attempted)
    except ConductorError as exc:
        unknown = f"could not read back to verify: {exc.message}"
        result.unknown = [_entry(w, [*answers.get(w.key, []), unknown]) for w in attempted]
        return
    for write in attempted:
        copy = held.get(write.key)
        if isinstance(copy, Unreadable):
            result.unknown.append(_entry(write, [*answers.get(write.key, []), copy.reason]))
            continue
        problems = target.problems(write, copy)
        if not problems:
            result.done.setdefault(write.action, []).append(write.ref)  # held as planned, whatever the answer
        else:
            result.failed.append(_entry(write, answers.get(write.key) or problems))
