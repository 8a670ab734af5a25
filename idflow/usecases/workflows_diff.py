"""`workflows diff`: what an upload would change, field by field, with each version's three-way state."""
from __future__ import annotations

from typing import Any, Iterable

from idflow.base.errors import IdflowError
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.usecases.workflow_ledger import fetch_workflow_ledger, read_workflows_seen
from idflow.usecases.workflows import plan
from idflow.workflowdefs.diff import WorkflowDiff, diff_workflows
from idflow.workflowdefs.sync import REMOTE_ONLY


def workflows_diff(session: Session, *, names: Iterable[str] | None = None, progress: Any = None,
                   run: StepRunner = direct) -> WorkflowDiff:
    """Local workflows (all, or those named) and the server's versions of them, field by field (JSON values);
    with no names, every server-only version too, with whose it is."""
    wanted = list(dict.fromkeys(names or ()))
    planned = plan(session, names=wanted or None, include_remote_only=True, progress=progress, run=run)
    missing = sorted(set(wanted) - {i.name for i in planned.items})
    if missing:
        raise IdflowError(f"no workflow named {', '.join(missing)} in a local file or on the server",
                          hint="'idflow workflows list' lists them")
    ledger = run(fetch_workflow_ledger, session)
    server_only = any(i.action == REMOTE_ONLY for i in planned.items)
    seen = run(read_workflows_seen, session.config, ledger) if ledger is not None and server_only else None
    return diff_workflows(planned, ledger, seen, wanted)
