"""Workflow backups: list them, restore from one (`idflow workflows backups|restore`): the generic
restore (idflow.engine.restore) with the workflows kind."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from idflow.engine.backups import list_backups
from idflow.engine.restore import RestoreOutcome
from idflow.usecases.backups import restore
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.workflowdefs.kind import KIND, WORKFLOWS


def list_workflow_backups(session: Session) -> list[Any]:
    """BackupInfo of each workflow backup in the state dir, oldest first."""
    return list_backups(session.state_dir, KIND)


def restore_workflows(session: Session, path: Path, *, names: Iterable[str] | None = None, dry_run: bool = False,
                      confirm: Confirm | None = None, run: StepRunner = direct) -> RestoreOutcome:
    """`workflows restore`: show what it overwrites, ask, back that up, write, read back."""
    return restore(session, path, names=names, dry_run=dry_run, confirm=confirm, run=run, kind=WORKFLOWS)
