"""A protected environment (`protected: true` under `environments:`): every write needs
`--yes` and a clean Git tree, or it is refused (exit 3) before the first write request.

The check sits on the client's write methods, so every operation that writes (upload,
apply, purge, sync, rollback, restore, adopt, workflows, event handlers, a workflow
start) passes it, whichever command or flow drives it; reads and dry runs never do.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from idflow.base.errors import RefusedError
from idflow.discovery.layers import task_layers
from idflow.provenance.trailer import git_state

# Every client method that changes the server. tests/test_environments.py checks that each
# public method of ConductorClient is either here or in READ_METHODS.
WRITE_METHODS = frozenset({"upsert_taskdefs", "delete_taskdef", "upsert_workflows", "delete_workflow",
                           "create_event_handler", "update_event_handler", "delete_event_handler",
                           "start_workflow", "terminate_workflow", "retry_workflow"})
READ_METHODS = frozenset({"list_taskdefs", "get_taskdef", "list_workflows", "get_workflow",
                          "list_event_handlers", "get_execution", "workflow_names", "health", "server_version",
                          "queue_sizes", "poll_data", "search_tasks", "close",
                          "running_workflow_ids", "list_schedules"})


def protected_write_problems(config: Any, *, confirmed: bool) -> list[str]:
    """Why a write to the selected environment may not go ahead ([]: it may)."""
    if not getattr(config, "protected", False):
        return []
    problems = [] if confirmed else ["--yes was not given"]
    state = git_state(Path(config.base_dir))
    if not state.available:
        problems.append("this is not a Git repository with a commit, so nothing here is committed")
    elif state.dirty_paths:
        shown = sorted(state.dirty_paths)
        problems.append(f"the Git tree is not clean ({len(shown)} uncommitted path(s): {', '.join(shown[:5])}"
                        + (", ..." if len(shown) > 5 else "") + ")")
    return problems + outside_layer_problems(config, state.root)


def outside_layer_problems(config: Any, root: Path | None) -> list[str]:
    """Every task layer counts: one outside the repository must be a clean Git checkout of its own,
    whose commit the upload then records in each stamp."""
    if root is None:
        return []  # not a repository at all: said already
    problems = []
    for layer in task_layers(config):
        if layer.resolve().is_relative_to(root.resolve()):
            continue  # inside the repository: its own status above covers it (submodules included)
        if not layer.exists():
            continue  # a missing layer is discovery's error, or an allowed optional one
        own = git_state(layer)
        if not own.available:
            problems.append(f"task layer {layer} is outside the repository and not a Git checkout, so no commit "
                            "records what it holds")
        elif own.dirty_paths:
            problems.append(f"task layer {layer} (outside the repository) has {len(own.dirty_paths)} uncommitted "
                            "path(s)")
    return problems


def check_protected_write(config: Any, *, confirmed: bool) -> None:
    problems = protected_write_problems(config, confirmed=confirmed)
    if problems:
        raise RefusedError(f"{protected_label(config)} is protected: every write to it needs --yes and a "
                           f"clean Git tree; {'; '.join(problems)}; nothing was changed",
                           hint="commit or stash your changes, then rerun with --yes (or use --dry-run to look)")


def protected_label(config: Any) -> str:
    """How a refusal names what is protected: the environment, and the server when another name selected it."""
    guarding = getattr(config, "protected_by", None) or config.environment
    if guarding and guarding != config.environment:
        return f"server {config.safe_api_url} (the server of protected environment {guarding})"
    return f"environment {guarding}"


class GuardedClient:
    """A Conductor client whose write methods first call `guard` (once it passes, it passed)."""

    def __init__(self, client: Any, guard: Callable[[], None]) -> None:
        self._client = client
        self._guard = guard
        self._passed = False

    def ensure_writable(self) -> None:
        """Run the write checks now, before a step that must not happen unless writes may follow."""
        if not self._passed:
            self._guard()
            self._passed = True

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if name not in WRITE_METHODS:
            return attribute

        def guarded(*args: Any, **kwargs: Any) -> Any:
            self.ensure_writable()
            return attribute(*args, **kwargs)

        return guarded
