"""Progress of a long operation: the core reports it through a callback, a shell draws it (or not).

A `Report` is called with a label and, for a counted loop, how many of how many are done:
`report("discovering", None, None)` starts a phase, `report("deleting", 3, 10)` counts one.
The core never prints; the CLI draws a bar on stderr, a flow passes nothing.
"""
from __future__ import annotations

from typing import Callable

Progress = Callable[[int, int], None]                    # (done, total) of one counted loop
Report = Callable[[str, "int | None", "int | None"], None]

DISCOVERING, READING, UPLOADING, DELETING, RESTORING = (
    "discovering", "reading the server", "uploading", "deleting", "restoring")


def phase(report: Report | None, label: str) -> None:
    """A phase of unknown length begins."""
    if report is not None:
        report(label, None, None)


def counted(report: Report | None, label: str) -> Progress | None:
    """The (done, total) callback of one counted loop, labelled; None when nobody listens."""
    if report is None:
        return None
    return lambda done, total: report(label, done, total)
