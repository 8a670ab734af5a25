"""Backups: snapshot the server's definitions, list the backups, restore from one."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import IdflowError, InputFileError
from idflow.engine.backups import list_backups as listed, restorable, write_backup
from idflow.engine.write import Write, WriteResult, execute
from idflow.taskdefs.kind import upserts
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
    taskdefs = fetch_taskdefs(session)
    path = write_backup(session.state_dir, "snapshot", taskdefs, server_url=session.config.safe_api_url, out=out)
    return Snapshot(str(path), len(taskdefs))


def list_backups(session: Session) -> list[Any]:
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


RESTORED = ("restored",)


@dataclass
class RestoreOutcome:
    plan: RestorePlan
    dry_run: bool = False
    result: WriteResult = field(default_factory=lambda: WriteResult.empty(RESTORED))

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "dry_run": self.dry_run, **self.result.to_json()}


def plan_restore(path: Path, names: Iterable[str] | None, taskdefs: list[dict[str, Any]]) -> RestorePlan:
    from idflow.engine.backups import read_backup
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


def _restored_exactly(write: Write, held: dict[str, Any] | None) -> list[str]:
    if held is None:
        return ["missing on the server after the write"]
    return [] if restorable(held) == write.body else ["the server holds something else after the write"]


def execute_restore(session: Session, plan: RestorePlan, progress: Report | None = None) -> RestoreOutcome:
    """Back up what it overwrites, write in batches, read back once: restored, failed, not attempted."""
    writes = [Write(d["name"], "restored", d, plan.replaces.get(d["name"])) for d in plan.definitions]
    target = upserts(session.config.batch_size, expect=_restored_exactly)
    return RestoreOutcome(plan, result=execute(
        session.client, writes, target, state_dir=session.state_dir, reason="restore", actions=RESTORED,
        server_url=session.config.safe_api_url, progress=counted(progress, RESTORING),
        interruption=session.interruption))


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
