"""What every idflow flow shares: its run's name, its artifacts, and how it ends.

A run is named after what it was asked ("upload all tasks, dry run") and, once done, after what it
found. A refusal or an error idflow raised on purpose ends it Failed with the reason as the
`idflow-refused` artifact (`ends_cleanly`); a run that did not do everything ends Failed with a
one-line message (`finish`), the account in its artifacts.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from prefect.artifacts import create_markdown_artifact
from prefect import get_run_logger
from prefect.client.orchestration import get_client
from prefect.runtime import flow_run

from idflow.base.errors import IdflowError, InvalidDefinitions
from idflow.flows import artifacts, outcome as ends

FLAGS = ("dry_run", "force", "prune", "include_foreign", "orphaned", "take_over", "pause_schedules")


def run_name(kind: str) -> Callable[[], str]:
    """A flow_run_name callable: "upload all tasks", "diff 3 tasks, dry run", "events upload 2 names"."""

    def name() -> str:
        params = flow_run.parameters or {}
        parts = [kind]
        for key, noun in (("task_names", "tasks"), ("names", "names")):
            if key in params:
                names = params.get(key) or []
                parts.append(f"all {noun}" if not names else names[0] if len(names) == 1 else f"{len(names)} {noun}")
        label = " ".join(parts)
        flags = [flag.replace("_", " ") for flag in FLAGS if params.get(flag)]
        if params.get("environment"):
            flags.append(f"env {params['environment']}")
        if params.get("config_path"):
            flags.append(f"config {params['config_path']}")
        return ", ".join([label, *flags])

    return name


def publish(key: str, markdown: str, description: str) -> None:
    create_markdown_artifact(markdown=markdown, key=key, description=description)


def name_run_after(result: str) -> None:
    """Append what the run found to its name, so the run list and `prefect flow-run ls` say it
    without opening the run: "diff all tasks: Drift: 1 to create, 0 to update, 0 orphaned"."""
    try:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.id, name=f"{flow_run.name}: {ends.short(result)}"[:200])
    except Exception as exc:  # a name is a convenience: the state and the artifacts say the same
        get_run_logger().warning("could not rename the run after its result (%s)", type(exc).__name__)


def ends_cleanly(body: Callable[..., Any]) -> Callable[..., Any]:
    """A flow body whose IdflowError ends the run Failed with the error's message (the caller of
    `return_state=True` gets the error back), after publishing why as `idflow-refused`."""

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            ended = body(*args, **kwargs)
        except IdflowError as exc:
            issues = [{"path": str(getattr(i, "path", "")), "line": getattr(i, "line", None),
                       "message": getattr(i, "message", None) or str(i)} for i in getattr(exc, "issues", [])]
            kind = "invalid task definitions" if isinstance(exc, InvalidDefinitions) else "refused"
            publish("idflow-refused", artifacts.refusal_markdown(kind, exc.message, exc.hint, issues),
                    f"idflow {kind}: nothing was changed")
            ended = ends.refused(exc)
        if getattr(ended, "is_failed", lambda: False)():
            name_run_after(f"{ended.name}: {ended.message}" if ended.name != "Failed" else f"failed: {ended.message}")
        return ended

    return run


def finish(doc: dict[str, Any], problems: list[str]) -> Any:
    """The document; a Failed state (the document only in the artifacts and for an in-process
    caller) when something was not done."""
    if problems:
        return ends.failed("; ".join(problems), doc)
    return doc
