"""Backups: snapshot the server's definitions, list the backups, restore from one."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import ConductorError, IdflowError, InputFileError
from idflow.base.interrupt import requested, writing
from idflow.usecases.session import Session
from idflow.base.progress import READING, RESTORING, Report, counted, phase
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.tasks import fetch_taskdefs


@dataclass
class Snapshot:
    backup: str
    count: int

    def to_json(self) -> dict[str, Any]:
        return {"backup": self.backup, "count": self.count}


def backup(session: Session, *, out: Path | None = None) -> Snapshot:
    """`tasks backup`: every remote task definition into one backup file."""
    from idflow.engine.backups import write_backup

    taskdefs = fetch_taskdefs(session)
    path = write_backup(session.state_dir, "snapshot", taskdefs, server_url=session.config.safe_api_url, out=out)
    return Snapshot(str(path), len(taskdefs))


def list_backups(session: Session) -> list[Any]:
    from idflow.engine.backups import list_backups as listed

    return listed(session.state_dir)


@dataclass
class RestorePlan:
    """What a restore writes: each backed-up definition, and the server copy it would replace."""

    source: str
    definitions: list[dict[str, Any]]                         # restorable bodies
    replaces: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [d["name"] for d in self.definitions]

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "restore": self.names,
                "overwrite": [n for n in self.names if n in self.replaces],
                "create": [n for n in self.names if n not in self.replaces]}


@dataclass
class RestoreOutcome:
    plan: RestorePlan
    dry_run: bool = False
    restored: list[str] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)     # {"name", "errors"}
    not_attempted: list[str] = field(default_factory=list)
    backup: str | None = None                                       # the copies it replaced
    interrupted: bool = False

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "dry_run": self.dry_run, "restored": self.restored, "failed": self.failed,
                "not_attempted": self.not_attempted, "backup": self.backup, "interrupted": self.interrupted}


def plan_restore(path: Path, names: Iterable[str] | None, taskdefs: list[dict[str, Any]]) -> RestorePlan:
    from idflow.engine.backups import read_backup, restorable
    from idflow.taskdefs.validation import backup_entry_problems

    document = read_backup(path)
    wanted = list(names or [])
    chosen = [d for d in document["taskdefs"] if isinstance(d, dict) and (not wanted or d.get("name") in wanted)]
    missing = sorted(set(wanted) - {d.get("name") for d in chosen})
    if missing:
        raise IdflowError(f"not in backup {path}: {', '.join(missing)}")
    current = {d["name"]: d for d in taskdefs}
    bodies = [restorable(d) for d in chosen]
    problems = [f"{b['name'][:80]!r}: {p}" for b in bodies for p in backup_entry_problems(b)]
    if problems:
        raise InputFileError(path, f"{len(problems)} problem(s), so nothing was written: " + "; ".join(problems[:10])
                             + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""), what="backup",
                             hint="restore only the other definitions (name them), or fix the backup by hand")
    return RestorePlan(str(path), bodies, {b["name"]: current[b["name"]] for b in bodies if b["name"] in current})


def execute_restore(session: Session, plan: RestorePlan, progress: Report | None = None) -> RestoreOutcome:
    """Back up what it overwrites, write in batches, read back once: restored, failed, not attempted."""
    from idflow.engine.backups import write_backup

    outcome = RestoreOutcome(plan)
    if plan.replaces:
        outcome.backup = str(write_backup(session.state_dir, "restore", list(plan.replaces.values()),
                                          server_url=session.config.safe_api_url))
    with writing(session.interruption):
        _write_batches(session, plan, outcome, counted(progress, RESTORING))
    return outcome


def _write_batches(session: Session, plan: RestorePlan, outcome: RestoreOutcome, progress: Any = None) -> None:
    from idflow.engine.backups import restorable

    size = session.config.batch_size
    failure: tuple[list[str], str] | None = None
    for start in range(0, len(plan.definitions), size):
        batch = plan.definitions[start:start + size]
        if requested(session.interruption):
            outcome.not_attempted = [d["name"] for d in plan.definitions[start:]]
            outcome.interrupted = True
            break
        try:
            session.client.upsert_taskdefs(batch)
            if progress is not None:
                progress(start + len(batch), len(plan.definitions))
        except ConductorError as exc:
            failure = ([d["name"] for d in batch], exc.message)
            outcome.not_attempted = [d["name"] for d in plan.definitions[start + size:]]
            break
    try:
        after = {d["name"]: d for d in session.client.list_taskdefs()}
    except ConductorError as exc:
        attempted = [n for n in plan.names if n not in set(outcome.not_attempted)]
        outcome.failed = [{"name": n, "errors": [f"could not read back to verify: {exc.message}"]} for n in attempted]
        return
    skipped = set(outcome.not_attempted)
    for body in plan.definitions:
        name = body["name"]
        if name in skipped:
            continue
        if restorable(after.get(name, {})) == body:
            outcome.restored.append(name)
        elif failure is not None and name in failure[0]:
            outcome.failed.append({"name": name, "errors": [failure[1]]})
        else:
            outcome.failed.append({"name": name, "errors": ["the server holds something else after the write"]})


def restore(session: Session, path: Path, *, names: Iterable[str] | None = None, dry_run: bool = False,
            confirm: Confirm | None = None, progress: Report | None = None,
            run: StepRunner = direct) -> RestoreOutcome:
    """`tasks restore`: show what it overwrites, ask, back that up, write, verify."""
    phase(progress, READING)
    taskdefs = run(fetch_taskdefs, session)
    plan = plan_restore(path, names, taskdefs)
    if dry_run or not plan.definitions:
        return RestoreOutcome(plan, dry_run=dry_run)
    if confirm is not None:
        confirm(plan)
    return run(execute_restore, session, plan, progress)
