"""The hand-written idflow flows (discover, diff, upload, purge_orphaned, sync, status) and FLOWS, every flow.

Each flow is the CLI's use case (`idflow.usecases`) run with `prefect_steps`, so every
step is a retried Prefect task. The flow adds only what Prefect shows: artifacts
(`idflow-plan`, `idflow-result`, ...) and the run's final state. It returns the very
document `idflow --json` prints. A refusal (dirty tree with require_clean, invalid task
files, a usage check that cannot be trusted) fails the run, after publishing the reason
as `idflow-refused`; a partial write fails the run with a short message, the exact account
in its artifacts. Every failed end is `idflow.flows.outcome`'s: an exception as the state's
data, no traceback in the run's logs.
"""
from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.states import Completed

from idflow import usecases
from idflow.base.errors import IdflowError, InvalidDefinitions, ServerEditsRefused
from idflow.flows import artifacts, outcome as ends
from idflow.flows.ending import ends_cleanly as _ends_cleanly, finish as _finish, name_run_after as _name_run_after
from idflow.flows.ending import publish as _publish
from idflow.flows.ending import run_name as _run_name
from idflow.flows.factory import generated_flows
from idflow.flows.runner import prefect_steps
from idflow.flows.session import open_session
from idflow.monitoring.assemble import parse_duration, parse_rate
from idflow.monitoring.report import Thresholds
from idflow.usecases import events as event_usecases  # a module: `events_upload` here is the generated flow

ends.install_quiet_ends()


def _publish_upload(outcome: usecases.UploadOutcome) -> None:
    doc = outcome.to_json()
    _publish("idflow-plan", artifacts.plan_markdown(doc["plan"], dirty=doc["dirty"]),
             "What the upload creates and updates, and why")
    _publish("idflow-result", artifacts.upload_result_markdown(doc),
             "What the upload wrote (dry run: what it would write)")


def _publish_purge(outcome: usecases.PurgeOutcome) -> None:
    doc = outcome.to_json()
    _publish("idflow-purge-plan", artifacts.purge_plan_markdown(doc["plan"]),
             "Orphaned definitions: which go, which stay and why")
    _publish("idflow-purge-result", artifacts.purge_result_markdown(doc), "What the purge deleted and kept")


def upload_problems(outcome: usecases.UploadOutcome) -> list[str]:
    result = outcome.result
    if result is None or result.ok:
        return []
    bad = [f["name"] for f in result.failed + result.unknown] + result.not_attempted
    return [f"{len(bad)} definition(s) not written or not verified: {ends.names(bad)} "
            "(see the idflow-result artifact; a rerun writes only what is still missing)"]


def purge_problems(outcome: usecases.PurgeOutcome) -> list[str]:
    result = outcome.result
    if result is None or result.ok:
        return []
    bad = [f["name"] for f in result.failed + result.unknown] + result.not_attempted
    return [f"{len(bad)} definition(s) not deleted: {ends.names(bad)} (see the idflow-purge-result artifact)"]


@flow(name="idflow-discover", flow_run_name=_run_name("discover"), persist_result=False)
@_ends_cleanly
def discover(config_path: str | None = None, environment: str | None = None) -> Any:
    """List the local task files' definitions and every problem found in them (read only)."""
    with open_session(config_path, environment) as session:
        found = prefect_steps(usecases.discover, session.config)
    doc = {**found.to_json(), "tasks_dir": str(session.config.tasks_dir)}
    _publish("idflow-discovery", artifacts.discovery_markdown(doc), "Local task definitions and problems")
    if found.errors:
        return Completed(message=f"{len(found.errors)} problem(s) in the task files", data=doc)
    return doc


@flow(name="idflow-diff", flow_run_name=_run_name("diff"), persist_result=False)
@_ends_cleanly
def diff(task_names: list[str] | None = None, config_path: str | None = None, fail_on_drift: bool = False,
         environment: str | None = None) -> Any:
    """What an upload would change (read only). On drift the run completes in a state named Drift
    (with fail_on_drift: it fails), the counts in its message."""
    with open_session(config_path, environment) as session:
        planned = usecases.diff(session, names=task_names, run=prefect_steps)
    doc = planned.to_json()
    found = artifacts.drift_summary(doc["counts"], drift=planned.drift)
    _publish("idflow-plan", artifacts.plan_markdown(doc, title=found, dirty=doc["dirty"]),
             f"{found}. What an upload would create and update, and what is only on the server")
    if not planned.drift:  # the use case decides what drift is, for the CLI's exit 4 and this state alike
        _name_run_after(found.lower() if found.startswith("In sync") else found)
        return doc
    if fail_on_drift:  # _ends_cleanly names the run after it
        return ends.failed(found, doc, name="Drift")
    _name_run_after(found)
    return Completed(name="Drift", message=found, data=doc)


@flow(name="idflow-upload", flow_run_name=_run_name("upload"), persist_result=False)
@_ends_cleanly
def upload(task_names: list[str] | None = None, force: bool = False, dry_run: bool = False,
           require_clean: bool | None = None, config_path: str | None = None, environment: str | None = None,
           overwrite_server_edits: bool = False, take_over: bool = False) -> Any:
    """Upload new and changed definitions (all, or task_names), merged into the server's copies and verified.
    Refused when it would revert an edit made on the server (overwrite_server_edits to revert it) or
    restamp another idflow project's definition (take_over)."""
    with open_session(config_path, environment) as session:
        outcome = usecases.upload(session, names=task_names, force=force, dry_run=dry_run,
                                  require_clean=require_clean, overwrite_server_edits=overwrite_server_edits,
                                  take_over=take_over, run=prefect_steps)
    _publish_upload(outcome)
    return _finish(outcome.to_json(), upload_problems(outcome))


@flow(name="idflow-purge-orphaned", flow_run_name=_run_name("purge orphaned"), persist_result=False)
@_ends_cleanly
def purge_orphaned(include_foreign: bool = False, dry_run: bool = False, config_path: str | None = None,
                   environment: str | None = None) -> Any:
    """Delete definitions idflow uploaded whose task file is gone, never one a workflow can use."""
    with open_session(config_path, environment) as session:
        outcome = usecases.purge(session, orphaned=True, include_foreign=include_foreign, dry_run=dry_run,
                                 run=prefect_steps)
    _publish_purge(outcome)
    return _finish(outcome.to_json(), purge_problems(outcome))


@flow(name="idflow-sync", flow_run_name=_run_name("sync"), persist_result=False)
@_ends_cleanly
def sync(prune: bool = False, dry_run: bool = False, require_clean: bool | None = None,
         config_path: str | None = None, events: bool = False, environment: str | None = None,
         overwrite_server_edits: bool = False, server_edits: str | None = None) -> Any:
    """Upload every new and changed definition; with prune, also purge orphans safely; with events,
    also upload the event handlers (event_handlers.json). Definitions edited on the server follow
    server_edits (else the environment's `server_edits:`): refuse, overwrite, or pull (into a branch)."""
    with open_session(config_path, environment) as session:
        try:
            outcome = usecases.sync(session, prune=prune, dry_run=dry_run, require_clean=require_clean,
                                    overwrite_server_edits=overwrite_server_edits, server_edits=server_edits,
                                    events=events, run=prefect_steps)
        except ServerEditsRefused as exc:
            _publish_server_edits(exc.doc)
            raise
        edits = outcome.server_edits
        handlers = event_usecases.events_upload(session, dry_run=dry_run, leave=edits.left_handlers if edits else [],
                                 overwrite_server_edits=outcome.policy == "overwrite",
                                 run=prefect_steps) if events else None
    if edits is not None:
        _publish_server_edits(edits.to_json())
    _publish_upload(outcome.upload)
    if outcome.purge is not None:
        _publish_purge(outcome.purge)
    problems = upload_problems(outcome.upload) + (purge_problems(outcome.purge) if outcome.purge else [])
    doc = outcome.to_json()
    if handlers is not None:  # issue 14: event handlers, only when the deployment asks for them
        doc["events"] = handlers.to_json()
        problems += handlers.problems()
    return _finish(doc, problems)


def _publish_server_edits(doc: dict[str, Any]) -> None:
    _publish("idflow-server-edits", artifacts.server_edits_markdown(doc),
             f"Definitions edited on the server (policy: {doc.get('policy')})")


# State names a status run ends in, the most urgent first (issue 27): the Prefect UI lists them like Drift.
STATUS_STATES = {"unserved": "Unserved", "failing": "Failing"}


@flow(name="idflow-status", flow_run_name=_run_name("status"), persist_result=False)
@_ends_cleanly
def status(task_names: list[str] | None = None, since: str = "1h", unserved_after: str = "60s",
           failing_above: str = "10%", fail_on_attention: bool = False, config_path: str | None = None,
           environment: str | None = None) -> Any:
    """Is every task served, and how is it doing (read only)? Queued work with no polling worker ends the
    run in a state named Unserved, a failure rate over failing_above in one named Failing (with
    fail_on_attention: failed); the table is the idflow-status artifact."""
    try:
        thresholds = Thresholds(parse_duration(since), parse_duration(unserved_after), parse_rate(failing_above))
    except ValueError as exc:
        raise IdflowError(str(exc), hint="since and unserved_after take 30s, 5m, 1h; failing_above 10% or 0.1") from None
    with open_session(config_path, environment) as session:
        report = usecases.task_status(session, names=task_names, thresholds=thresholds, run=prefect_steps)
    doc = report.to_json()
    summary = report.summary()
    _publish("idflow-status", artifacts.status_markdown(doc), summary)
    named = next((STATUS_STATES[k] for k in report.needs_attention() if k in STATUS_STATES), None)
    if named is None:
        return Completed(message=summary, data=doc)
    if fail_on_attention:  # _ends_cleanly names the run after it
        return ends.failed(summary, doc, name=named)
    _name_run_after(summary)
    return Completed(name=named, message=summary, data=doc)


# Every other operation's flow is made from its registry entry (idflow.usecases.registry); each is a name of
# this module too, so `idflow.flows.definitions:events_upload` is an entrypoint like `...:upload`.
GENERATED = generated_flows()
globals().update(GENERATED)
FLOWS = {"discover": discover, "diff": diff, "upload": upload, "purge_orphaned": purge_orphaned, "sync": sync,
         "status": status, **GENERATED}
