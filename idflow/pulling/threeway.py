"""Who moved a definition, from three hashes (pure): the base (what idflow last wrote, from a ledger),
the code's and the server's. And the value a pulled JSON object becomes.

The same rule as task definitions (`idflow.taskdefs.plan.three_way`): server != base means someone edited
it outside idflow; code != base means the code changed; both means a conflict. Without a base nobody can
say which side moved, so nothing is pulled or reverted on a guess.
"""
from __future__ import annotations

from typing import Any

SAME, CODE_CHANGED, EDITED, CONFLICT, NO_BASE = "same", "code_changed", "edited_on_server", "conflict", "no_base"
REASONS = {
    CONFLICT: "changed on the server and in the code since idflow last wrote it (a conflict): resolve it in the "
              "file by hand",
    NO_BASE: "idflow has no record of what it last wrote (uploaded before idflow kept one, or by someone else), so "
             "it cannot tell which side changed",
    CODE_CHANGED: "the code changed, not the server: an upload writes it",
}


def three_way(base: str | None, code: str, server: str, *, equal: bool) -> str:
    """`equal`: code and server hold the same definition (by the kind's own comparison)."""
    if equal:
        return SAME
    if base is None:
        return NO_BASE
    if server == base:
        return CODE_CHANGED
    return EDITED if code == base else CONFLICT


def pulled_value(server: Any, local: Any, local_normal: Any) -> Any:
    """What the local object becomes so that it normalises to `server` (already normalised).

    A key the file leaves out because it is a default the server fills in stays left out; a key the
    normal form drops (a null, an empty map, a key the server does not keep) stays as the file has it;
    everything else takes the server's value, in the file's key order, new keys last.
    """
    if isinstance(server, dict) and isinstance(local, dict) and isinstance(local_normal, dict):
        out: dict[str, Any] = {}
        for key, value in local.items():
            if key in server:
                out[key] = pulled_value(server[key], value, local_normal.get(key))
            elif key not in local_normal:
                out[key] = value
        for key, value in server.items():
            if key not in local and not (key in local_normal and local_normal[key] == value):
                out[key] = value
        return out
    if isinstance(server, list) and isinstance(local, list) and isinstance(local_normal, list) \
            and len(server) == len(local) == len(local_normal):
        return [pulled_value(s, l, n) for s, l, n in zip(server, local, local_normal)]
    return server
