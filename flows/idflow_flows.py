"""The idflow flows: discover, diff, upload, purge_orphaned, sync.

Each flow strings the steps of `flows.steps` together, publishes what it planned
and what it did as markdown artifacts (`idflow-plan`, `idflow-result`, ...), and
returns a JSON-able dict shaped like the CLI's `--json` document. A diff that
finds drift completes with a state message saying so; a refusal (dirty tree with
require_clean, invalid task files, a usage check that cannot be trusted) fails
the run with the reason, after publishing it as `idflow-refused`.
"""
from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.artifacts import create_markdown_artifact
from prefect.states import Completed

from flows import artifacts
from flows.steps import (apply_step, delete_step, discover_step, fetch_taskdefs_step, fetch_workflows_step,
                         plan_purge_step, plan_step, result_from_doc, verify_step)
from idflow.apply import ApplyResult
from idflow.errors import IdflowError
from idflow.operations import InvalidDefinitions, UploadOutcome
from idflow.plan import UNCHANGED, Plan


def _run_name(kind: str):
    """A flow_run_name callable: "upload all tasks", "diff 3 tasks, dry run", "sync, prune"."""

    def name() -> str:
        from prefect.runtime import flow_run

        params = flow_run.parameters or {}
        parts = [kind]
        if "task_names" in params:
            names = params.get("task_names") or []
            parts.append("all tasks" if not names else names[0] if len(names) == 1 else f"{len(names)} tasks")
        label = " ".join(parts)
        flags = [flag.replace("_", " ") for flag in ("dry_run", "force", "prune", "include_foreign")
                 if params.get(flag)]
        if params.get("config_path"):
            flags.append(f"config {params['config_path']}")
        return ", ".join([label, *flags])

    return name


def _publish(key: str, markdown: str, description: str) -> None:
    create_markdown_artifact(markdown=markdown, key=key, description=description)


def _refused(exc: IdflowError) -> None:
    issues = [{"path": str(getattr(i, "path", "")), "line": getattr(i, "line", None),
               "message": getattr(i, "message", None) or str(i)} for i in getattr(exc, "issues", [])]
    kind = "invalid task definitions" if isinstance(exc, InvalidDefinitions) else "refused"
    _publish("idflow-refused", artifacts.refusal_markdown(kind, exc.message, exc.hint, issues),
             f"idflow {kind}: nothing was changed")


def _plan(config_path, found, task_names, force, require_clean) -> dict[str, Any]:
    """Fetch, plan and publish the plan; a refusal is published before it fails the run."""
    remote = fetch_taskdefs_step(config_path)
    try:
        planned = plan_step(config_path, found, remote, task_names=task_names, force=force,
                            require_clean=require_clean)
    except IdflowError as exc:
        _refused(exc)
        raise
    _publish("idflow-plan", artifacts.plan_markdown(planned["plan"], dirty=planned["dirty"]),
             "What the upload creates and updates, and why")
    return planned


def _upload(config_path, found, task_names, force, dry_run, require_clean) -> dict[str, Any]:
    planned = _plan(config_path, found, task_names, force, require_clean)
    plan = Plan.from_json(planned["plan"])
    outcome = UploadOutcome(plan, None, planned["dirty"], planned["provenance_missing"])
    if dry_run:
        doc = outcome.to_json()
    elif not plan.to_write:  # in sync: no apply or verify task runs to pay for
        outcome.result = ApplyResult(unchanged=plan.names(UNCHANGED))
        doc = {**outcome.to_json(), "verified": {"verified": [], "mismatched": []}}
    else:
        result = apply_step(config_path, planned["plan"])
        outcome.result = result_from_doc(result)
        doc = outcome.to_json()
        doc["verified"] = verify_step(config_path, planned["plan"], result)
    _publish("idflow-result", artifacts.upload_result_markdown(doc),
             "What the upload wrote (dry run: what it would write)")
    return doc


def _upload_failed(doc: dict[str, Any]) -> str | None:
    verified = doc.get("verified") or {}
    bad = ([f["name"] for f in doc.get("failed", [])] + doc.get("not_attempted", [])
           + [m["name"] for m in verified.get("mismatched", [])])
    if not bad:
        return None
    return (f"{len(bad)} definition(s) not written or not verified: {', '.join(bad[:20])} "
            "(see the idflow-result artifact; a rerun writes only what is still missing)")


def _purge(config_path, found, include_foreign, dry_run) -> dict[str, Any]:
    remote = fetch_taskdefs_step(config_path)
    workflows = fetch_workflows_step(config_path)
    try:
        purge = plan_purge_step(config_path, found, remote, workflows, include_foreign=include_foreign)
    except IdflowError as exc:
        _refused(exc)
        raise
    _publish("idflow-purge-plan", artifacts.purge_plan_markdown(purge),
             "Orphaned definitions: which go, which stay and why")
    doc = {"deleted": [], "skipped": purge["skipped"], "failed": [], "backup": None, "dry_run": dry_run,
           "would_delete": [d["name"] for d in purge["delete"]] if dry_run else [],
           "forced": [d["name"] for d in purge["delete"] if d.get("forced_uses")]}
    if not dry_run and purge["delete"]:
        doc.update(delete_step(config_path, purge))
    _publish("idflow-purge-result", artifacts.purge_result_markdown(doc), "What the purge deleted and kept")
    return doc


@flow(name="idflow-discover", flow_run_name=_run_name("discover"), persist_result=False)
def discover(config_path: str | None = None) -> dict[str, Any]:
    """List the local task files' definitions and every problem found in them (read only)."""
    found = discover_step(config_path)
    _publish("idflow-discovery", artifacts.discovery_markdown(found), "Local task definitions and problems")
    if found["errors"]:
        return Completed(message=f"{len(found['errors'])} problem(s) in the task files", data=found)
    return found


@flow(name="idflow-diff", flow_run_name=_run_name("diff"), persist_result=False)
def diff(task_names: list[str] | None = None, config_path: str | None = None) -> dict[str, Any]:
    """What an upload would change (read only). Completes with "drift: ..." in its state message on drift."""
    found = discover_step(config_path)
    planned = _plan(config_path, found, task_names, False, False)
    doc = {**planned["plan"], "drift": Plan.from_json(planned["plan"]).has_drift, "dirty": planned["dirty"]}
    if doc["drift"]:
        counts = doc["counts"]
        return Completed(message=f"drift: {counts['create']} to create, {counts['update']} to update", data=doc)
    return doc


@flow(name="idflow-upload", flow_run_name=_run_name("upload"), persist_result=False)
def upload(task_names: list[str] | None = None, force: bool = False, dry_run: bool = False,
           require_clean: bool | None = None, config_path: str | None = None) -> dict[str, Any]:
    """Upload new and changed definitions (all, or task_names), merged into the server's copies and verified."""
    found = discover_step(config_path)
    doc = _upload(config_path, found, task_names, force, dry_run, require_clean)
    failure = _upload_failed(doc)
    if failure:
        raise IdflowError(failure)
    return doc


@flow(name="idflow-purge-orphaned", flow_run_name=_run_name("purge orphaned"), persist_result=False)
def purge_orphaned(include_foreign: bool = False, dry_run: bool = False,
                   config_path: str | None = None) -> dict[str, Any]:
    """Delete definitions idflow uploaded whose task file is gone, never one a workflow uses."""
    found = discover_step(config_path)
    doc = _purge(config_path, found, include_foreign, dry_run)
    if doc["failed"]:
        raise IdflowError(f"{len(doc['failed'])} definition(s) not deleted: "
                          + ", ".join(f["name"] for f in doc["failed"][:20]))
    return doc


@flow(name="idflow-sync", flow_run_name=_run_name("sync"), persist_result=False)
def sync(prune: bool = False, dry_run: bool = False, require_clean: bool | None = None,
         config_path: str | None = None) -> dict[str, Any]:
    """Upload every new and changed definition; with prune, also purge orphans safely."""
    found = discover_step(config_path)
    doc: dict[str, Any] = {"upload": _upload(config_path, found, None, False, dry_run, require_clean)}
    if prune:
        doc["purge"] = _purge(config_path, found, False, dry_run)
    problems = [p for p in (_upload_failed(doc["upload"]),
                            prune and doc["purge"]["failed"] and f"{len(doc['purge']['failed'])} not deleted") if p]
    if problems:
        raise IdflowError("; ".join(problems))
    return doc


FLOWS = {"discover": discover, "diff": diff, "upload": upload, "purge_orphaned": purge_orphaned, "sync": sync}
