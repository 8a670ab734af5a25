"""Workflow backups: list them, restore from one (`idflow workflows backups|restore`).

Steps: `fetch_workflows` (one GET) at the edge, `plan_workflow_restore` (reads the file, pure
otherwise), `write_restore` backs up what it overwrites, writes and reads back.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.workflowdefs.restore import (WorkflowRestoreOutcome, WorkflowRestorePlan, execute_workflow_restore,
                                         plan_workflow_restore)


def list_workflow_backups(session: Session) -> list[Any]:
    """BackupInfo of each workflow backup in the state dir, oldest first."""
    from idflow.engine.backups import list_backups
    from idflow.workflowdefs.write import BACKUP_KIND

    return list_backups(session.state_dir, BACKUP_KIND)


def fetch_workflows(session: Session) -> list[dict[str, Any]]:
    return session.client.list_workflows()


def write_restore(session: Session, plan: WorkflowRestorePlan) -> WorkflowRestoreOutcome:
    return execute_workflow_restore(session.client, plan, state_dir=session.state_dir,
                                    server_url=session.config.safe_api_url, batch_size=session.config.batch_size,
                                    interruption=session.interruption)


def restore_workflows(session: Session, path: Path, *, names: Iterable[str] | None = None, dry_run: bool = False,
                      confirm: Confirm | None = None, run: StepRunner = direct) -> WorkflowRestoreOutcome:
    """`workflows restore`: show what it overwrites, ask, back that up, write, read back."""
    remote = run(fetch_workflows, session)
    plan = plan_workflow_restore(path, names, remote)
    if dry_run or not plan.to_write:
        return WorkflowRestoreOutcome(plan, dry_run=dry_run)
    if confirm is not None:
        confirm(plan)
    return run(write_restore, session, plan)
