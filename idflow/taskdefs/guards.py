"""Refusals that keep a write from undoing someone's work unseen (pure: a plan in, an error or nothing out).

- An edit made on the server since idflow last wrote the definition (EDITED) or made while
  the code changed too (CONFLICT) is never reverted without --overwrite-server-edits.
- A definition another idflow project stamped is never restamped without --take-over.
"""
from __future__ import annotations

import json
from typing import Any

from idflow.base.errors import RefusedError
from idflow.taskdefs.plan import CONFLICT, EDITED, Plan, PlanItem

SHOWN = 5


def refuse_unseen_reverts(plan: Plan) -> None:
    """Refuse (exit 3, nothing written) a plan that would revert server edits it was not told to overwrite."""
    if plan.overwrite_server_edits:
        return
    edited, conflicts = plan.of(EDITED), plan.of(CONFLICT)
    if not edited and not conflicts:
        return
    parts = []
    if edited:
        parts.append(f"{len(edited)} definition(s) edited on the server since idflow uploaded them, their task files "
                     f"unchanged: {_listed(edited)}")
    if conflicts:
        parts.append(f"{len(conflicts)} definition(s) changed on the server and in the code (a conflict): "
                     f"{_listed(conflicts)}")
    raise RefusedError("; ".join(parts) + "; an upload would revert the server's edit, so nothing was written",
                       hint="'idflow tasks diff' shows both sides; bring the edit into the task file, or rerun with "
                            "--overwrite-server-edits to replace it with the code")


def refuse_other_projects(plan: Plan) -> None:
    """Refuse (exit 3) writing over a definition another idflow project stamped, unless taking it over."""
    if plan.take_over:
        return
    taken = [i for i in plan.to_write if i.owner]
    if not taken:
        return
    shown = ", ".join(f"{i.name} (project {i.owner})" for i in taken[:SHOWN]) + (" ..." if len(taken) > SHOWN else "")
    raise RefusedError(f"{len(taken)} definition(s) on the server belong to another idflow project: {shown}; "
                       "nothing was written",
                       hint="rename the task, or rerun with --take-over to make it this project's (the move is "
                            "recorded in its stamp)")


def _listed(items: list[PlanItem]) -> str:
    return "; ".join(f"{i.name} ({_sides(i)})" for i in items[:SHOWN]) + (" ..." if len(items) > SHOWN else "")


def _sides(item: PlanItem) -> str:
    return ", ".join(f"{c.field}: server {_value(c.old)}, code {_value(c.new)}" for c in item.changes[:3]) + (
        ", ..." if len(item.changes) > 3 else "")


def _value(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
