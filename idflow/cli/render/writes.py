"""The account of any write (idflow.engine.write.WriteResult's document): one renderer for every kind.

What an operation did (created, deleted, restored, ...) is its own renderer's to say; what went
wrong, what is unknown, what was never tried and where the backup is are said here, the same way
for task definitions, event handlers and workflows.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from idflow.cli.render.text import natural_key, safe

if TYPE_CHECKING:  # rich is loaded when it prints: output that is not a terminal may never need it
    from rich.console import Console

MAX_LISTED = 50


def ref_label(ref: Any) -> str:
    """"name", or "name v3" for a versioned definition."""
    if isinstance(ref, dict):
        return f"{ref['name']} v{ref['version']}" if "version" in ref else str(ref["name"])
    return str(ref)


def _listed(refs: list[Any]) -> str:
    labels = sorted((ref_label(r) for r in refs), key=natural_key)
    shown = ", ".join(safe(label) for label in labels[:MAX_LISTED])
    return shown + (f" ... and {len(labels) - MAX_LISTED} more (--json lists each)" if len(labels) > MAX_LISTED else "")


def render_problems(console: Console, doc: dict[str, Any], *, failed_word: str = "failed",
                    backup_note: str = "previous server copies backed up to", restore_hint: str | None = None) -> None:
    """Failed, unknown, not attempted, interrupted and the backup: the part every write account shares."""
    failed = sorted(doc.get("failed") or [], key=lambda f: natural_key(ref_label(f)))
    for failure in failed[:MAX_LISTED]:
        console.print(f"[bold red]{failed_word} {safe(ref_label(failure))}:[/] {safe('; '.join(failure['errors']))}")
    if len(failed) > MAX_LISTED:
        console.print(f"[bold red]... and {len(failed) - MAX_LISTED} more {failed_word}[/] (--json lists each)")
    unknown = doc.get("unknown") or []
    if unknown:
        console.print(f"[bold yellow]unknown {len(unknown)}:[/] sent, but the server could not be read back to "
                      f"say whether it holds them: {_listed(unknown)}")
        console.print(f"  [dim]{safe(unknown[0]['errors'][-1])}; run the command again to see where they stand[/]")
    if doc.get("not_attempted"):
        why = "stopped by a signal" if doc.get("interrupted") else "stopped after a failure"
        console.print(f"[bold red]not attempted ({why}) {len(doc['not_attempted'])}:[/] "
                      f"{_listed(doc['not_attempted'])}")
    if doc.get("backup"):
        hint = f" ({restore_hint})" if restore_hint else ""
        console.print(f"[dim]{backup_note} {safe(doc['backup'])}{hint}[/]")
