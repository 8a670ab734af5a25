"""The flows' steps as Prefect tasks: discover, fetch, plan, apply, verify, purge.

Each step takes and returns plain JSON-able data (never a client), builds its own
Conductor client from the config, and is retried with exponential backoff only
when it failed with an `idflow.errors.TransientError`: a refusal, a validation
error or an invalid task file fails at once.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from idflow import operations
from idflow.apply import ApplyResult, apply_plan, mismatches
from idflow.conductor.client import client_from_config
from idflow.config import load_config
from idflow.errors import ConfigError, TransientError
from idflow.plan import Plan
from idflow.purge import Deletion, PurgePlan

RETRIES = 3
BACKOFF_SECONDS = 2.0   # 2, 4, 8 s between Prefect retries (the client already retried within each attempt)


def only_transient(task_, task_run, state) -> bool:
    """`retry_condition_fn`: retry only when the step failed with a TransientError."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            exc = state.result(raise_on_failure=False)
        except Exception:
            return False
    return isinstance(exc, TransientError)


def _params() -> dict[str, Any]:
    from prefect.runtime import task_run

    return task_run.parameters or {}


def _apply_name() -> str:
    plan = _params().get("plan") or {}
    counts = plan.get("counts", {})
    writes = counts.get("create", 0) + counts.get("update", 0)
    if plan.get("forced"):
        writes += counts.get("unchanged", 0)
    return f"apply {writes} write(s)" + (" (forced)" if plan.get("forced") else "")


def _verify_name() -> str:
    result = _params().get("result") or {}
    return f"verify {len(result.get('created', [])) + len(result.get('updated', []))} written"


def _delete_name() -> str:
    return f"delete {len((_params().get('purge') or {}).get('delete', []))} definition(s)"


STEP = dict(retries=RETRIES, retry_delay_seconds=exponential_backoff(backoff_factor=BACKOFF_SECONDS),
            retry_jitter_factor=0.2, retry_condition_fn=only_transient, cache_policy=NO_CACHE,
            persist_result=False)


# ---- config, secrets, clients ----------------------------------------------------------
_secret_lock = threading.Lock()


def config_for(config_path: str | None):
    """The config, with the Conductor key from a Prefect Secret block when one is named.

    The key lands only in this process's environment (the variable the config names),
    where the client reads it: never in a parameter, a log line or an artifact.
    """
    config = load_config(config_path)
    block = config.prefect_secret_block
    if block and not os.environ.get(config.conductor_api_key_env_var):
        with _secret_lock:
            if not os.environ.get(config.conductor_api_key_env_var):
                os.environ[config.conductor_api_key_env_var] = _load_secret(block)
    return config


def _load_secret(block: str) -> str:
    from prefect.blocks.system import Secret

    try:
        value = Secret.load(block).get()
    except ValueError as exc:
        raise ConfigError(f"cannot load the Prefect Secret block {block!r} (config key prefect_secret_block): "
                          f"{type(exc).__name__}",
                          hint=f"create it: Secret(value=...).save({block!r}), or unset prefect_secret_block") from None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"the Prefect Secret block {block!r} holds no string value")
    return value


class _Recorder:
    """Wraps a client and remembers the last transient failure the core swallowed into its result."""

    def __init__(self, client) -> None:
        self._client = client
        self.transient: TransientError | None = None

    def __getattr__(self, name: str):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                return attr(*args, **kwargs)
            except TransientError as exc:
                self.transient = exc
                raise
        return call


def _retry_if_transient(recorder: _Recorder) -> None:
    """Re-raise a swallowed transient failure while Prefect has retries left (the write is idempotent)."""
    from prefect.runtime import task_run

    if recorder.transient is not None and (task_run.run_count or 1) <= RETRIES:
        raise recorder.transient


@dataclass
class _Snapshot:
    """The data the fetch steps read, served to core functions that expect a client."""

    taskdefs: list[dict[str, Any]]
    workflows: list[dict[str, Any]] | None = None

    def list_taskdefs(self) -> list[dict[str, Any]]:
        return list(self.taskdefs)

    def list_workflows(self) -> list[dict[str, Any]]:
        return list(self.workflows or [])


# ---- discovery as plain data --------------------------------------------------------------
@dataclass(frozen=True)
class TaskRef:
    name: str
    path: str
    line: int
    function: str
    task_dir: str
    task_def: dict[str, Any]


@dataclass(frozen=True)
class IssueRef:
    path: str
    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.path}:{self.line or '?'}: {self.message}"


class DiscoveryView:
    """A Discovery rebuilt from `discovery_doc`: what select_tasks and plan_purge_for read."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.tasks = [TaskRef(t["name"], t["path"], t["line"], t.get("function", ""), t["task_dir"], t["task_def"])
                      for t in doc.get("tasks", [])]
        self.valid_tasks = [ref for ref, t in zip(self.tasks, doc.get("tasks", [])) if t.get("valid")]
        self.errors = [IssueRef(e["path"], e.get("line"), e["message"]) for e in doc.get("errors", [])]

    def by_name(self) -> dict[str, TaskRef]:
        found: dict[str, TaskRef] = {}
        for t in self.tasks:
            found.setdefault(t.name, t)
        return found


def issue_doc(issue: Any) -> dict[str, Any]:
    message = getattr(issue, "message", None) or str(issue)
    return {"path": str(getattr(issue, "path", "") or ""), "line": getattr(issue, "line", None), "message": message}


def discovery_doc(discovery: Any, tasks_dir: str = "") -> dict[str, Any]:
    valid = {id(t) for t in discovery.valid_tasks}
    return {"tasks_dir": tasks_dir,
            "tasks": [{"name": t.name, "path": str(t.path), "line": t.line, "function": getattr(t, "function", ""),
                       "task_dir": str(t.task_dir), "task_def": t.task_def, "valid": id(t) in valid}
                      for t in discovery.tasks],
            "errors": [issue_doc(e) for e in discovery.errors],
            "warnings": [issue_doc(w) for w in getattr(discovery, "warnings", [])]}


# ---- the steps ---------------------------------------------------------------------------------
@task(name="discover", task_run_name="discover local tasks", **STEP)
def discover_step(config_path: str | None = None) -> dict[str, Any]:
    """Read the task files (static, no imports) into plain data."""
    config = load_config(config_path)
    return discovery_doc(operations.discover_local(config), str(config.resolve(config.tasks_dir)))


@task(name="fetch-taskdefs", task_run_name="fetch task definitions", **STEP)
def fetch_taskdefs_step(config_path: str | None = None) -> list[dict[str, Any]]:
    with client_from_config(config_for(config_path)) as client:
        return client.list_taskdefs()


@task(name="fetch-workflows", task_run_name="fetch workflow definitions", **STEP)
def fetch_workflows_step(config_path: str | None = None) -> list[dict[str, Any]]:
    with client_from_config(config_for(config_path)) as client:
        return client.list_workflows()


@task(name="plan", task_run_name="plan upload", **STEP)
def plan_step(config_path: str | None, discovery: dict[str, Any], remote: list[dict[str, Any]],
              task_names: list[str] | None = None, force: bool = False,
              require_clean: bool | None = None) -> dict[str, Any]:
    """Desired vs fetched: the plan, with the dirty-tree and invalid-file refusals of the CLI."""
    config = load_config(config_path)
    outcome = operations.upload(config, _Snapshot(remote), DiscoveryView(discovery), names=task_names,
                                force=force, dry_run=True, require_clean=require_clean)
    return {"plan": outcome.plan.to_json(), "dirty": outcome.dirty, "provenance_missing": outcome.provenance_missing}


@task(name="apply", task_run_name=_apply_name, **STEP)
def apply_step(config_path: str | None, plan: dict[str, Any]) -> dict[str, Any]:
    """Write the plan's creates and updates (merged, backed up), read back. Returns ApplyResult JSON."""
    config = config_for(config_path)
    with client_from_config(config) as client:
        recorder = _Recorder(client)
        result = apply_plan(recorder, Plan.from_json(plan), state_dir=operations.state_dir(config),
                            batch_size=config.batch_size)
        if not result.ok:
            _retry_if_transient(recorder)
        return result.to_json()


@task(name="verify", task_run_name=_verify_name, **STEP)
def verify_step(config_path: str | None, plan: dict[str, Any], result: dict[str, Any]) -> dict[str, Any]:
    """Read the server once more: every written definition holds the planned fields and stamp."""
    written = set(result.get("created", [])) | set(result.get("updated", []))
    if not written:
        return {"verified": [], "mismatched": []}
    with client_from_config(config_for(config_path)) as client:
        server = {d["name"]: d for d in client.list_taskdefs()}
    doc: dict[str, Any] = {"verified": [], "mismatched": []}
    for item in Plan.from_json(plan).items:
        if item.name not in written:
            continue
        errors = mismatches(item, server.get(item.name))
        if errors:
            doc["mismatched"].append({"name": item.name, "errors": errors})
        else:
            doc["verified"].append(item.name)
    return doc


@task(name="plan-purge", task_run_name="plan purge of orphans", **STEP)
def plan_purge_step(config_path: str | None, discovery: dict[str, Any], remote: list[dict[str, Any]],
                    workflows: list[dict[str, Any]], include_foreign: bool = False) -> dict[str, Any]:
    """Which orphans may go: usage from every workflow version (server and local files)."""
    config = load_config(config_path)
    purge = operations.plan_purge_for(config, _Snapshot(remote, workflows), DiscoveryView(discovery),
                                      orphaned=True, include_foreign=include_foreign)
    return purge_doc(purge)


def purge_doc(purge: PurgePlan) -> dict[str, Any]:
    """PurgePlan.to_json() plus the server copies the deletions back up first."""
    doc = purge.to_json()
    for entry, deletion in zip(doc["delete"], purge.deletions):
        entry["server_copy"] = deletion.server_copy
    return doc


def purge_from_doc(doc: dict[str, Any]) -> PurgePlan:
    return PurgePlan(deletions=[Deletion(d["name"], d["reason"], d["server_copy"], tuple(d.get("forced_uses", ())),
                                         d.get("note", "")) for d in doc.get("delete", [])])


@task(name="delete", task_run_name=_delete_name, **STEP)
def delete_step(config_path: str | None, purge: dict[str, Any]) -> dict[str, Any]:
    """Back up, then delete (a definition already gone counts as deleted, so a retry is safe)."""
    config = config_for(config_path)
    with client_from_config(config) as client:
        recorder = _Recorder(client)
        result = operations.execute_purge_plan(config, recorder, purge_from_doc(purge))
        if result.failed:
            _retry_if_transient(recorder)
        return {"deleted": result.deleted, "failed": result.failed, "backup": result.backup}


def result_from_doc(doc: dict[str, Any]) -> ApplyResult:
    return ApplyResult(**{k: doc[k] for k in ("created", "updated", "unchanged", "failed", "not_attempted",
                                              "backup", "requests") if k in doc})
