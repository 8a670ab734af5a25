"""One function per operation, shared by the CLI and the Prefect flows.

Each use case takes a `Session` (config + Conductor client) and a `StepRunner`; it runs
its steps (discover, fetch, plan, apply) through the runner and returns an outcome
whose `to_json()` is the one document both `idflow --json` and the flow return, and
whose `from_json()` reads it back.

Names are loaded on first use (PEP 562): `tasks list --local` needs `discover`, not the
modules behind backups, history and purge, and every command pays for what it imports.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_MODULES = {
    "idflow.usecases.backups": ("RestoreOutcome", "RestorePlan", "Snapshot", "backup", "list_backups", "restore"),
    "idflow.usecases.revisions": ("History", "RollbackOutcome", "history", "rollback"),
    "idflow.usecases.local": ("discover", "state_dir"),
    "idflow.usecases.purging": ("PurgeOutcome", "SyncOutcome", "WorkflowSources", "execute_purge", "fetch_workflows",
                              "purge", "plan_purge", "sync"),
    "idflow.usecases.session": ("Session",),
    "idflow.usecases.status": ("task_status",),
    "idflow.usecases.steps": ("Confirm", "StepRunner", "direct"),
    "idflow.usecases.tasks": ("Listing", "UploadOutcome", "UploadPlan", "apply_plan_file", "apply_saved_plan",
                               "apply_upload", "diff", "fetch_taskdefs", "list_sync", "plan_definitions", "plan_upload",
                               "select_tasks", "upload"),
}
_HOME = {name: module for module, names in _MODULES.items() for name in names}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'idflow.usecases' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))


if TYPE_CHECKING:  # what the names are, for readers and type checkers
    from idflow.usecases.backups import RestoreOutcome, RestorePlan, Snapshot, backup, list_backups, restore
    from idflow.usecases.revisions import History, RollbackOutcome, history, rollback
    from idflow.usecases.local import discover, state_dir
    from idflow.usecases.purging import (PurgeOutcome, SyncOutcome, WorkflowSources, execute_purge, fetch_workflows,
                                       plan_purge, purge, sync)
    from idflow.usecases.session import Session
    from idflow.usecases.status import task_status
    from idflow.usecases.steps import Confirm, StepRunner, direct
    from idflow.usecases.tasks import (Listing, UploadOutcome, UploadPlan, apply_plan_file, apply_saved_plan,
                                        apply_upload, diff, fetch_taskdefs, list_sync, plan_definitions, plan_upload,
                                        select_tasks, upload)
