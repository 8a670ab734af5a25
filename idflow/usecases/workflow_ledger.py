"""This project's workflow ledger: the hash of each workflow version as idflow wrote it, the base that
`workflows pull` and the sync flow's server-edit policy compare with (idflow.workflowdefs.pulling)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idflow.base.errors import IdflowError
from idflow.usecases.events import fetch_ledger
from idflow.usecases.session import Session
from idflow.workflowdefs.pulling import LEDGER_KIND, ledger_hashes
from idflow.workflowdefs.write import UploadResult


def fetch_workflow_ledger(session: Session) -> Any:
    return fetch_ledger(session, LEDGER_KIND)


def record_workflows(session: Session, definitions: list[dict[str, Any]], ledger: Any = None) -> str | None:
    """Record these versions, as written, in this project's workflow ledger (why on failure, None on success).
    A failure is reported, never raised: the versions are written either way, and one the ledger misses is
    only ever refused by a pull (no base), never reverted or pulled on a guess."""
    if not definitions:
        return None
    try:
        ledger = ledger if ledger is not None else fetch_workflow_ledger(session)
        if ledger is None:
            return None
        session.client.upsert_taskdefs([ledger.with_hashes(ledger_hashes(definitions)).taskdef()])
    except IdflowError as exc:
        return f"the ledger of this project's workflows could not be written ({exc.message}): a pull of these " \
               "versions is refused until the next upload records them"
    return None



@dataclass
class RecordedUpload(UploadResult):
    """`workflows upload`'s result with the ledger write's problem, if any."""

    ledger_problem: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {**super().to_json(), "ledger_problem": self.ledger_problem}


