"""One function per operation, shared by the CLI and the Prefect flows.

Each use case takes a `Session` (config + Conductor client) and a `StepRunner`; it runs
its steps (discover, fetch, plan, apply) through the runner and returns an outcome
whose `to_json()` is the one document both `idflow --json` and the flow return, and
whose `from_json()` reads it back.
"""
from idflow.usecases.backups import RestoreOutcome, RestorePlan, Snapshot, backup, list_backups, restore
from idflow.usecases.history import History, RollbackOutcome, history, rollback
from idflow.usecases.purge import (PurgeOutcome, SyncOutcome, WorkflowSources, execute_purge, fetch_workflows, purge,
                                   plan_purge, sync)
from idflow.usecases.session import Session, state_dir
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.upload import (Listing, UploadOutcome, UploadPlan, apply_saved_plan, apply_upload, diff, discover,
                                    fetch_taskdefs, list_sync, plan_definitions, plan_upload, select_tasks, upload)

__all__ = ["History", "RestoreOutcome", "RestorePlan", "RollbackOutcome", "Snapshot", "backup", "history",
           "list_backups", "restore", "rollback", "Confirm", "Listing", "PurgeOutcome", "Session", "StepRunner", "SyncOutcome", "UploadOutcome", "UploadPlan",
           "WorkflowSources", "apply_saved_plan", "apply_upload", "diff", "direct", "discover", "execute_purge",
           "fetch_taskdefs", "fetch_workflows", "list_sync", "plan_definitions", "plan_purge", "plan_upload", "purge",
           "select_tasks", "state_dir", "sync", "upload"]
