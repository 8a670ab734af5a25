"""`workflows diff` and `workflows list --sync`: what an upload would change, field by field, with each version's
three-way state."""
from __future__ import annotations

from typing import Any, Iterable

from idflow.base.errors import IdflowError
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.usecases.workflow_ledger import fetch_workflow_ledger, read_workflows_seen
from idflow.usecases.workflows import plan
from idflow.workflowdefs.diff import WorkflowDiff, diff_workflows
from idflow.workflowdefs.pulling import label
from idflow.workflowdefs.sync import REMOTE_ONLY, WorkflowPlan


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
    return workflow_states(session, planned, wanted, run=run)


def workflow_states(session: Session, planned: WorkflowPlan, names: Iterable[str] = (), *,
                    run: StepRunner = direct) -> WorkflowDiff:
    """Each item of a plan with its three-way state: the ledger is the base, and this clone's Git history has
    the last word on a server-only version (idflow.provenance.seen)."""
    ledger = run(fetch_workflow_ledger, session)
    # Git's history decides only for a server-only version the ledger names: `list --sync` reads it no more often
    ledger_named = ledger is not None and any(i.action == REMOTE_ONLY and label(i.name, i.version) in ledger.entries
                                              for i in planned.items)
    seen = run(read_workflows_seen, session.config, ledger) if ledger_named else None
    return diff_workflows(planned, ledger, seen, names)


def sync_view(session: Session, *, progress: Any = None, run: StepRunner = direct) -> tuple[WorkflowPlan, WorkflowDiff]:
    """`workflows list --sync`: the plan with every server-only version, and the state of each item."""
    planned = plan(session, include_remote_only=True, progress=progress, run=run)
    return planned, workflow_states(session, planned, run=run)


def sync_document(planned: WorkflowPlan, states: WorkflowDiff) -> dict[str, Any]:
    """The `workflows list --sync --json` document: the plan's summary, each version's state and their counts."""
    return {**planned.summary(), "states": {i.label: i.state.to_json() for i in states.items},
            "counts": states.counts()}
