"""The operations: discovery -> plan -> apply, as plain functions.

The CLI and the Prefect flows call exactly these; each step takes and returns
plain data so a flow can wrap every step in its own retried task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.apply import ApplyResult, Progress, apply_plan
from idflow.errors import IdflowError, RefusedError
from idflow.plan import Plan, make_plan
from idflow.provenance import GitState, Provenance, git_state, provenance_for


class InvalidDefinitions(IdflowError):
    """Discovery or validation errors: nothing was written."""

    def __init__(self, message: str, issues: list[Any]) -> None:
        super().__init__(message, hint="fix the files named above, or name only valid tasks")
        self.issues = issues


def discover_local(config):
    from idflow.discovery import discover

    return discover(config.resolve(config.tasks_dir), cache_dir=state_dir(config) / "cache")


def select_tasks(discovery, names: Iterable[str] | None) -> list[Any]:
    """The tasks to act on. All: refuse if anything is invalid. Named: only those must be valid."""
    names = list(names or [])
    if not names:
        if discovery.errors:
            raise InvalidDefinitions(f"{len(discovery.errors)} problem(s) in the task files; nothing was written",
                                     discovery.errors)
        return list(discovery.tasks)
    known = discovery.by_name()
    missing = [n for n in names if n not in known]
    if missing:
        raise IdflowError(f"no local task named {', '.join(missing)}",
                          hint=f"known tasks: {', '.join(sorted(known)) or 'none'} ('idflow tasks list --local')")
    valid = {t.name for t in discovery.valid_tasks}
    chosen = [known[n] for n in dict.fromkeys(names)]
    bad = [t for t in chosen if t.name not in valid]
    if bad:
        issues = [e for e in discovery.errors if any(e.path == t.path for t in bad)]
        raise InvalidDefinitions(f"invalid definition(s): {', '.join(t.name for t in bad)}; nothing was written",
                                 issues)
    return chosen


def provenance_of(config, tasks: list[Any]) -> tuple[dict[str, Provenance], GitState]:
    state = git_state(config.base_dir)
    return provenance_for(tasks, state, project=config.project_name), state


def plan_tasks(config, client, tasks: list[Any], *, force: bool = False,
               provenance: dict[str, Provenance] | None = None, actual: list[dict] | None = None) -> Plan:
    """Desired (tasks) vs actual (one GET of all task defs) -> Plan."""
    unique = {}
    for task in tasks:
        unique.setdefault(task.name, task)
    remote = client.list_taskdefs() if actual is None else actual
    return make_plan([t.task_def for t in unique.values()], remote,
                     sources={t.name: f"{t.path}:{t.line}" for t in unique.values()},
                     provenance=provenance, force=force, server_url=config.safe_api_url, project=config.project_name)


@dataclass
class UploadOutcome:
    plan: Plan
    result: ApplyResult | None                  # None for --dry-run
    dirty: list[str] = field(default_factory=list)
    provenance_missing: bool = False

    def to_json(self) -> dict[str, Any]:
        doc = self.result.to_json() if self.result else {"created": [], "updated": [], "unchanged": [], "failed": []}
        doc.update({"dry_run": self.result is None, "dirty": self.dirty, "provenance_missing": self.provenance_missing,
                    "plan": self.plan.counts()})
        if self.result is None:
            doc["would_create"] = self.plan.names("create")
            doc["would_update"] = self.plan.names("update")
            doc["unchanged"] = self.plan.names("unchanged")
        return doc


def upload(config, client, discovery, *, names: Iterable[str] | None = None, force: bool = False,
           dry_run: bool = False, require_clean: bool | None = None, progress: Progress | None = None) -> UploadOutcome:
    tasks = select_tasks(discovery, names)
    provenance, state = provenance_of(config, tasks)
    dirty = sorted(n for n, p in provenance.items() if p.dirty)
    if dirty and (config.require_clean if require_clean is None else require_clean):
        raise RefusedError(f"uncommitted changes in task(s) {', '.join(dirty)}; nothing was written",
                           hint="commit them first, or drop --require-clean")
    plan = plan_tasks(config, client, tasks, force=force, provenance=provenance)
    plan = plan.select(t.name for t in tasks)
    outcome = UploadOutcome(plan, None, dirty, provenance_missing=not state.available)
    if not dry_run:
        outcome.result = apply_plan(client, plan, state_dir=state_dir(config),
                                    batch_size=config.batch_size, progress=progress)
    return outcome


def apply_saved_plan(config, client, plan: Plan, *, progress: Progress | None = None) -> ApplyResult:
    if plan.server_url and plan.server_url != config.safe_api_url:
        raise RefusedError(f"the plan was made for {plan.server_url}, not {config.safe_api_url}; nothing was written")
    return apply_plan(client, plan, state_dir=state_dir(config), batch_size=config.batch_size,
                      recheck_server=True, progress=progress)


def state_dir(config) -> Path:
    """The state dir (cache, backups); it ignores itself so it never makes a Git tree dirty."""
    path = config.resolve(config.state_dir)
    ignore = path / ".gitignore"
    if not ignore.exists():
        try:
            path.mkdir(parents=True, exist_ok=True)
            ignore.write_text("# written by idflow: cache and backups stay out of Git\n*\n", encoding="utf-8")
        except OSError:
            pass  # read-only checkout: discovery still works without a cache
    return path


def load_usage(config, client):
    """Usage index from every workflow version on the server and every local workflow file."""
    from idflow.usage import build_usage_index
    from idflow.workflow_files import load_workflow_files

    local, issues = load_workflow_files(config.resolve(config.workflows_dir))
    return build_usage_index(client.list_workflows(), local), issues


def plan_purge_for(config, client, discovery, *, names: Iterable[str] = (), orphaned: bool = False,
                   include_foreign: bool = False, force: bool = False):
    """The purge plan; refuses (exit 3) when local files cannot be trusted to say what is orphaned."""
    from idflow.purge import plan_purge, refuse_unaddressable

    if orphaned and discovery.errors:
        raise RefusedError(f"{len(discovery.errors)} task file problem(s): a file that failed to parse is not an "
                           "orphan, so nothing was deleted", hint="fix the task files ('idflow tasks list --local')")
    usage, issues = load_usage(config, client)
    if issues and not force:
        raise RefusedError(f"{len(issues)} local workflow file(s) could not be read, so usage is unknown: "
                           + "; ".join(f"{i.path}:{i.line}: {i.message}" for i in issues[:5]),
                           hint="fix the workflow files, or --force")
    plan = plan_tasks(config, client, discovery.tasks)
    return refuse_unaddressable(plan_purge(plan, usage, names=names, orphaned=orphaned,
                                           include_foreign=include_foreign, force=force))


def execute_purge_plan(config, client, purge_plan):
    from idflow.purge import execute_purge

    return execute_purge(client, purge_plan, state_dir=state_dir(config), server_url=config.api_url)
