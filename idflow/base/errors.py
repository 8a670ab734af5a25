"""The exception hierarchy, modelled on httpx: one root, one branch per layer.

Every error that can reach a user carries a message that says what to do next and
the exit code the CLI should use. Secrets never go into a message: the Conductor
client redacts before it raises.
"""
from __future__ import annotations

from typing import Any, Iterable
import signal

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_DRIFT = 4


class IdflowError(Exception):
    """Root of everything idflow raises on purpose."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class ConfigError(IdflowError):
    """The configuration file or an override is wrong (names file, key and line)."""


class InputFileError(IdflowError):
    """A file idflow reads (definitions, backup, plan, config, input) cannot be used: names the file,
    the line where one is known, and the problem. Raised by `idflow.base.reading`, before anything is written."""

    def __init__(self, path: Any, problem: str, *, line: int = 0, what: str = "file",
                 hint: str | None = None) -> None:
        self.path, self.line, self.problem = str(path), line, problem
        super().__init__(f"{what} {path}{f':{line}' if line else ''}: {problem}", hint=hint)


class RefusedError(IdflowError):
    """idflow refused to act for safety; nothing was changed."""

    exit_code = EXIT_REFUSED


class ServerEditsRefused(RefusedError):
    """A sync met definitions edited on the server that its server_edits policy may not write or pull."""

    def __init__(self, message: str, doc: dict[str, Any] | None = None, *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.doc = doc or {}    # ServerEditsOutcome.to_json(): the edits, the refusals, the branch


class SyncScheduleActive(RefusedError):
    """A scheduled sync (a Prefect deployment) would undo this change at its next run."""


class PrefectUnreachable(IdflowError):
    """The Prefect API in PREFECT_API_URL cannot be asked (down, refused, or an error answer)."""


class ConductorError(IdflowError):
    """Anything that went wrong talking to the Conductor server."""

    def __init__(self, message: str, *, hint: str | None = None, status: int | None = None,
                 method: str | None = None, path: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status
        self.method = method
        self.path = path


class TransientError(ConductorError):
    """Worth retrying: the same request may succeed later."""


class ConnectionFailed(TransientError):
    """The server could not be reached or the connection broke."""


class RequestTimeout(TransientError):
    """The server did not answer in time."""


class ServerUnavailable(TransientError):
    """429 or 502/503/504: the server asked us to come back later."""


class AuthFailed(ConductorError):
    """401/403: credentials missing, wrong or not allowed."""


class NotFound(ConductorError):
    """404: the named definition does not exist."""


class ValidationFailed(ConductorError):
    """The server rejected a definition; `errors` holds its messages."""

    def __init__(self, message: str, *, errors: list[str] | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.errors = errors or []


class ServerError(ConductorError):
    """Any other non-success answer (500, unexpected bodies, bad JSON)."""


class UnaddressableName(RefusedError):
    """Names the server cannot read or delete exactly by URL path: refused before anything is written."""

    def __init__(self, names: list[tuple[str, str]], *, what: str = "definition") -> None:
        self.names = [name for name, _ in names]
        listed = "; ".join(f"{name[:80]!r}: {reason}" for name, reason in names[:10])
        more = f" (and {len(names) - 10} more)" if len(names) > 10 else ""
        super().__init__(f"refused: {len(names)} {what} name(s) cannot be addressed exactly on this server, "
                         f"so nothing was written: {listed}{more}",
                         hint="the server can store such a name but not read or delete it by name; choose a name "
                              "without a slash, backslash or NUL (a stored one can only be removed outside the API)")


class InvalidDefinitions(IdflowError):
    """Discovery or validation found problems in the task files: nothing was written."""

    def __init__(self, message: str, issues: list | None = None) -> None:
        super().__init__(message, hint="fix the files named above, or name only valid tasks")
        self.issues = list(issues or [])


class NoSuchTask(IdflowError):
    """A named task is not among the local task files."""


class WorkflowsRefused(IdflowError):
    """A workflow names a task with no definition anywhere: nothing was written.

    Exit 3 (refused), not 1: the files are well formed and the server would accept them,
    but the workflow would fail at run time; as with purge's usage check, idflow declines.
    """

    exit_code = EXIT_REFUSED

    def __init__(self, plan: Any) -> None:
        lines = [f"{i.label} ({i.path}): " + ", ".join(f"{r.task} at {r.where}" for r in i.unknown_tasks)
                 for i in plan.refused]
        names = sorted({r.task for i in plan.refused for r in i.unknown_tasks})
        super().__init__(f"unknown task(s) {', '.join(names)}: no task definition locally or on the server; "
                         f"nothing was written. " + "; ".join(lines),
                         hint="fix the task names, or add the tasks (`idflow tasks new NAME`) and upload them "
                              "(`idflow tasks upload NAME`)")
        self.plan = plan


class WorkerStartError(IdflowError):
    """The workers cannot start (unknown task, import failure, missing requirement): nothing polls."""

    def __init__(self, message: str, details: Iterable[str] = (), *, hint: str | None = None) -> None:
        self.details = list(details)
        super().__init__(message + "".join(f"\n  {d}" for d in self.details), hint=hint)


class WorkflowFilesInvalid(IdflowError):
    """Some workflow files could not be read, so `workflows upload --all` wrote nothing."""

    def __init__(self, message: str, issues: list[Any]) -> None:
        super().__init__(message, hint="fix the files named above, or name only the workflows to upload")
        self.issues = issues


class Interrupted(IdflowError):
    """SIGINT or SIGTERM outside a write loop: the command stopped; nothing was half done."""

    def __init__(self, signum: int) -> None:
        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}; stopped before changing anything more")
        self.signum = signum
        self.exit_code = 128 + signum


class EventFilesInvalid(IdflowError):
    """Some event-handler files could not be read, so `events upload --all` wrote nothing."""

    def __init__(self, message: str, issues: list[Any]) -> None:
        super().__init__(message, hint="fix the files named above, or name only the handlers to upload")
        self.issues = issues


class FileWriteError(IdflowError):
    """A file idflow must write (backup, plan) could not be written; no partial file is left."""


class InvalidPlan(IdflowError, ValueError):
    """A saved plan that is not one idflow wrote, or whose definitions an upload would refuse."""


class InvalidTaskName(IdflowError):
    """The NAME given to `idflow tasks new` cannot be a task dir and module."""

    exit_code = EXIT_USAGE


class InvalidWorkflowName(IdflowError):
    """The NAME given to `idflow workflows new` cannot be a workflow file name."""

    exit_code = EXIT_USAGE


class InvalidExecutionId(IdflowError):
    """The ID given to `idflow workflow status|terminate|retry` cannot be a workflow run's id."""

    exit_code = EXIT_USAGE
