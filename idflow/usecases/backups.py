"""Backups: snapshot the server's definitions, list the backups, restore from one."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from idflow.engine.backups import list_backups as listed, write_backup
from idflow.engine.kind import Kind
from idflow.engine.restore import RestoreOutcome, RestorePlan, execute_restore, plan_restore
from idflow.taskdefs.kind import TASKDEFS
from idflow.usecases.session import Session
from idflow.base.progress import READING, RESTORING, Report, counted, phase
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.tasks import fetch_taskdefs


@dataclass
class Snapshot:
    """A `tasks backup` snapshot: the backup file written and how many definitions it holds."""
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


def fetch_server_copies(session: Session, kind: Kind) -> list[dict[str, Any]]:
    return kind.read_server(session.client)


def write_restore(session: Session, kind: Kind, plan: RestorePlan, progress: Report | None = None) -> RestoreOutcome:
    """Back up what it overwrites, write in batches, read back once: restored, failed, unknown, not attempted."""
    return execute_restore(session.client, kind, plan, state_dir=session.state_dir,
                           server_url=session.config.safe_api_url, batch_size=session.config.batch_size,
                           progress=counted(progress, RESTORING), interruption=session.interruption)


def restore(session: Session, path: Path, *, names: Iterable[str] | None = None, dry_run: bool = False,
            confirm: Confirm | None = None, progress: Report | None = None, run: StepRunner = direct,
            kind: Kind = TASKDEFS) -> RestoreOutcome:
    """`tasks restore` (and, with another kind, `workflows restore`): show what it overwrites, ask, back
    that up, write, verify. What the server already holds as backed up is left alone."""
    phase(progress, READING)
    remote = run(fetch_server_copies, session, kind)
    plan = plan_restore(kind, path, names, remote)
    if dry_run or not plan.to_write:
        return RestoreOutcome(plan, dry_run=dry_run)
    if confirm is not None:
        confirm(plan)
    return run(write_restore, session, kind, plan, progress)
