"""How an idflow flow run ends when it did not do everything: Failed, with a short message.

A failed end is a `Failed` state whose data is an exception, never a document: a deployment's
engine resolves the run's result when it ends, and a Failed state's data must resolve into an
exception (a dict ends in "TypeError: Unexpected result for failed state"). The document of
what was done goes into the artifacts; the exception carries it only for a caller in the same
process (`idflow --prefect`), which prints it as the CLI does without Prefect.

Prefect 3 logs "Engine execution exited with unexpected exception" with a traceback for *every*
Failed run a worker runs, whatever the state holds. For idflow's own ends (a refusal, drift with
fail_on_drift, a partial write) the state already says everything in one line ("Finished in
state Drift('Drift: 1 to create, ...', type=FAILED)"): `QuietEnds` drops that record and strips
the traceback from step failures that are idflow's own errors. A bug (any other exception) keeps
its traceback.
"""
from __future__ import annotations

import logging
from typing import Any

from prefect.states import Failed, State

from idflow.base.errors import IdflowError

MAX_MESSAGE = 300   # characters of a Failed state's message: the artifacts hold the rest
MAX_NAMES = 5       # names listed in a message before "and N more"


class RunEnded(Exception):
    """An idflow run that ended without doing everything; `document` is what it did (its --json)."""

    def __init__(self, message: str, document: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.document = document

    def __reduce__(self):  # picklable with its document, for a result store that persists it
        return (RunEnded, (self.message, self.document))


def short(text: str) -> str:
    """One line, at most MAX_MESSAGE characters."""
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def names(items: list[str]) -> str:
    shown = ", ".join(items[:MAX_NAMES])
    return shown + (f" and {len(items) - MAX_NAMES} more" if len(items) > MAX_NAMES else "")


def failed(message: str, document: dict[str, Any] | None = None, *, name: str = "Failed") -> State:
    message = short(message)
    return Failed(name=name, message=message, data=RunEnded(message, document))


def refused(exc: IdflowError) -> State:
    """A refusal or an error idflow raised on purpose: the caller gets that very exception back."""
    return Failed(message=short(exc.message), data=exc)


def document_of(result: Any) -> dict[str, Any] | None:
    """The document a finished run's result carries: the dict itself, or a RunEnded's."""
    if isinstance(result, dict):
        return result
    if isinstance(result, RunEnded):
        return result.document
    return None


ENGINE_EXIT = "Engine execution exited with unexpected exception"


class QuietEnds(logging.Filter):
    """No traceback for idflow's planned ends; the engine's exit record for them is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, (RunEnded, IdflowError)):
            return True
        if str(record.msg).startswith(ENGINE_EXIT) or "exited with unexpected exception" in str(record.msg):
            return False  # the Finished-in-state line before it said it all
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


QUIET_LOGGERS = ("prefect.flow_runs", "prefect.task_runs", "prefect.engine", "prefect.flow_engine",
                 "prefect.task_engine")


def install_quiet_ends() -> None:
    for name in QUIET_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, QuietEnds) for f in logger.filters):
            logger.addFilter(QuietEnds())
