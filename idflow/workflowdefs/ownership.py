"""Who owns a workflow version, and which side moved since idflow wrote it (pure).

Workflows carry no stamp: the base is this project's workflow ledger (`idflow.workflowdefs.pulling`), the
hash of each version as idflow last wrote it. For a version with a local file and a server copy:
- equal: in sync;
- server == base, code moved: code changed (an upload writes it);
- code == base, server moved: server changed (edited in the UI; an upload refuses to revert it unseen);
- both moved: a conflict;
- no base (the ledger does not name it, or the project has no identity): uncertain, nobody can say which side
  moved.
For a server version no local file defines: ours and unwanted (orphaned) only when the ledger names it *and* the
server copy still hashes to what idflow wrote; edited since: uncertain (kept); not named: not ours (kept);
no identity: uncertain (kept). The ledger's hash alone cannot tell a clone behind from the writer, so
`orphan_ownership` also asks this clone's Git history (idflow.provenance.seen): orphaned only if the version was
written from a commit in that history, which once held it as the server has it, and HEAD no longer does; else a
clone ahead, another branch or uncommitted work wrote it (uncertain). When in doubt, keep.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idflow.engine.ledger import Ledger
from idflow.pulling.threeway import CODE_CHANGED as TW_CODE, CONFLICT as TW_CONFLICT, EDITED as TW_EDITED
from idflow.provenance.seen import SeenInGit, history_doubt
from idflow.pulling.threeway import NO_BASE, SAME, three_way
from idflow.workflowdefs.pulling import label, workflow_hash
from idflow.workflowdefs.sync import differences

IN_SYNC, CODE_CHANGED, SERVER_CHANGED, CONFLICT = "in_sync", "code_changed", "server_changed", "conflict"
NOT_OURS, UNCERTAIN, LOCAL_ONLY, ORPHANED = "not_ours", "uncertain", "local_only", "orphaned"
STATES = (IN_SYNC, CODE_CHANGED, SERVER_CHANGED, CONFLICT, NOT_OURS, UNCERTAIN, LOCAL_ONLY, ORPHANED)
NO_IDENTITY = "this project has no identity (project: in config/idflow.yml), so no version is provably its own"


@dataclass(frozen=True)
class Ownership:
    """The three-way state of one workflow version (in sync, code or server changed, orphaned...), and why."""
    state: str
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Ownership":
        return cls(data["state"], data.get("reason", ""))


def ownership(name: str, version: int, local: dict[str, Any] | None, server: dict[str, Any] | None,
              ledger: Ledger | None) -> Ownership:
    """The state of one (name, version) from its local definition, its server copy and the ledger."""
    if server is None:
        return Ownership(LOCAL_ONLY, "not on the server: an upload creates it")
    base = ledger.entries.get(label(name, version)) if ledger is not None else None
    if local is None:
        if ledger is None:
            return Ownership(UNCERTAIN, NO_IDENTITY + " (kept)")
        if base is None:
            return Ownership(NOT_OURS, "not written by this project: its workflow ledger does not name it (kept)")
        if base != workflow_hash(server):
            return Ownership(UNCERTAIN, "edited on the server since this project wrote it, and no local file "
                                        "defines it any more (kept)")
        return Ownership(ORPHANED, "written by this project, unchanged since, and no local file defines it")
    state = three_way(base, workflow_hash(local), workflow_hash(server), equal=not differences(server, local))
    if state == SAME:
        return Ownership(IN_SYNC)
    if state == NO_BASE:
        why = NO_IDENTITY if ledger is None else "this project's workflow ledger has no record of it"
        return Ownership(UNCERTAIN, f"{why}: which side changed cannot be told")
    if state == TW_CODE:
        return Ownership(CODE_CHANGED, "the code changed, the server holds what idflow wrote: an upload writes it")
    if state == TW_EDITED:
        return Ownership(SERVER_CHANGED, "edited on the server since idflow wrote it, the file unchanged: "
                                         "'idflow workflows pull' brings the edit into the file")
    assert state == TW_CONFLICT
    return Ownership(CONFLICT, "changed on the server and in the code since idflow wrote it (a conflict)")


def orphan_ownership(name: str, version: int, server: dict[str, Any], ledger: Ledger | None,
                     seen: SeenInGit | None) -> Ownership:
    """The state of a server version no local file defines, this clone's Git history (`seen`; None: not in Git)
    having the last word on ORPHANED."""
    state = ownership(name, version, None, server, ledger)
    if state.state != ORPHANED or ledger is None:
        return state
    key = label(name, version)
    doubt = history_doubt(key, workflow_hash(server), seen, ledger.commits.get(key))
    return state if doubt is None else Ownership(UNCERTAIN, doubt)


def refuses_overwrite(state: str) -> bool:
    """An upload or rollback over this state would revert an edit made on the server unseen."""
    return state in (SERVER_CHANGED, CONFLICT)
