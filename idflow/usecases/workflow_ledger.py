"""This project's workflow ledger: the hash of each workflow version as idflow wrote it, the base that
`workflows pull` and the sync flow's server-edit policy compare with (idflow.workflowdefs.pulling)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idflow.base.errors import IdflowError
from idflow.provenance.seen import SeenInGit, read_seen
from idflow.usecases.events import fetch_ledger, write_commit
from idflow.usecases.session import Session
from idflow.workflowdefs.pulling import LEDGER_KIND, is_workflow_path, ledger_hashes, ledger_hashes_in
from idflow.workflowdefs.write import UploadResult


def fetch_workflow_ledger(session: Session) -> Any:
    return fetch_ledger(session, LEDGER_KIND)


def read_workflows_seen(config: Any, ledger: Any) -> SeenInGit | None:
    """Every workflow version this clone's Git history held, those HEAD holds, and which of the ledger's commits
    are in its history (None: not in Git): whether a server version no file defines is this clone's to purge
    (idflow.provenance.seen)."""
    return read_seen(Path(config.resolve(config.workflows_dir)), is_workflow_path, ledger_hashes_in,
                     ledger.commits.values())


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
        recorded = ledger.with_hashes(ledger_hashes(definitions), write_commit(session))
        session.client.upsert_taskdefs([recorded.taskdef()])
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


