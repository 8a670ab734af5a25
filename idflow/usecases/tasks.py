"""Discover, plan (diff), upload and apply a saved plan: one function per operation.

Steps: `discover` (read task files) and `fetch_taskdefs` (one GET) at the edges,
`plan_upload` reads the Git state for the stamps (`git status`; `git log` for orphan candidates) and
then compares purely (`make_plan`, `settle_orphans`), `apply_upload` writes, reads back once and
accounts for every definition.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable

from idflow.taskdefs.apply import ACTIONS, ApplyResult, apply_plan
from idflow.base.errors import InvalidDefinitions, InvalidPlan, NoSuchTask, RefusedError
from idflow.project.identity import NOBODY
from idflow.taskdefs.guards import refuse_other_projects, refuse_unseen_reverts
from idflow.taskdefs.plan import ORPHANED, UNCHANGED, Plan, make_plan, settle_orphans, read_plan_document
from idflow.provenance.lineage import read_lineage, unproven
from idflow.provenance.trailer import (GitState, GitStateReading, Provenance, git_state, outside_repository,
                                       provenance_for)
from idflow.usecases.session import Session
from idflow.usecases.local import discover, state_dir  # noqa: F401  (discover: also `usecases.upload.discover`)
from idflow.usecases.steps import StepRunner, direct
from idflow.base.progress import DISCOVERING, READING, UPLOADING, Progress, Report, counted, phase
from idflow.engine.ledger import is_ledger
from idflow.project.protection import protected_label


# ---- steps ----------------------------------------------------------------------------------
def fetch_taskdefs(session: Session) -> list[dict[str, Any]]:
    return session.client.list_taskdefs()


def select_tasks(discovery: Any, names: Iterable[str] | None) -> list[Any]:
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
        raise NoSuchTask(f"no local task named {', '.join(missing)}",
                         hint=f"known tasks: {', '.join(sorted(known)) or 'none'} ('idflow tasks list --local')")
    valid = {t.name for t in discovery.valid_tasks}
    chosen = [known[n] for n in dict.fromkeys(names)]
    bad = [t for t in chosen if t.name not in valid]
    if bad:
        issues = [e for e in discovery.errors if any(e.path == t.path for t in bad)]
        raise InvalidDefinitions(f"invalid definition(s): {', '.join(t.name for t in bad)}; nothing was written",
                                 issues)
    return chosen


def plan_definitions(config: Any, tasks: list[Any], taskdefs: list[dict[str, Any]], *, force: bool = False,
                     provenance: dict[str, Provenance] | None = None, overwrite_server_edits: bool = False,
                     take_over: bool = False) -> Plan:
    """Desired (tasks) vs actual (the server's task definitions) -> Plan, with every remote-only one.

    Orphan candidates are settled against this checkout's Git history: only a definition whose
    stamped commit is behind HEAD, and whose task is gone at HEAD, stays orphaned."""
    unique: dict[str, Any] = {}
    for task in tasks:
        unique.setdefault(task.name, task)
    taskdefs = [d for d in taskdefs if not is_ledger(d.get("name"))]  # idflow's own records are never tasks
    plan = make_plan([t.task_def for t in unique.values()], taskdefs,
                     sources={t.name: f"{t.path}:{t.line}" for t in unique.values()},
                     provenance=provenance, force=force, server_url=config.safe_api_url,
                     project=config.project_name or NOBODY,  # no identity: nothing on the server is ours
                     overwrite_server_edits=overwrite_server_edits, take_over=take_over)
    orphans = [(i.name, i.provenance) for i in plan.of(ORPHANED) if i.provenance is not None]
    if not orphans:
        return plan
    lineage = read_lineage(config.base_dir, orphans)
    return settle_orphans(plan, {name: unproven(name, stamp, lineage) for name, stamp in orphans})


@dataclass(frozen=True)
class UploadPlan:
    """A plan plus what the Git state says about it: `tasks diff`'s document and a saved plan file."""

    plan: Plan
    dirty: tuple[str, ...] = ()
    provenance_missing: bool = False
    # Every uncommitted path of the whole tree when the plan was made (None: not in Git): a protected
    # environment applies only a plan made from a clean tree, whatever the tree is like later.
    tree_dirty: tuple[str, ...] | None = None

    @property
    def drift(self) -> bool:
        """Something to upload, or an orphan of this project (source gone, still on the server).
        A named diff selects local tasks only, so it never sees orphans."""
        return self.plan.has_drift or bool(self.orphaned)

    @property
    def orphaned(self) -> list[str]:
        return self.plan.names(ORPHANED)

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "drift": self.drift, "dirty": list(self.dirty),
                "provenance_missing": self.provenance_missing,
                "tree_dirty": None if self.tree_dirty is None else list(self.tree_dirty)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "UploadPlan":
        dirty = data.get("dirty") or []
        if not isinstance(dirty, list) or not all(isinstance(d, str) for d in dirty):
            raise InvalidPlan("the plan's dirty is not a list of file names, so nothing was written",
                              hint="make a fresh plan with 'idflow tasks diff --out plan.json'; never edit one by hand")
        tree = data.get("tree_dirty")
        return cls(Plan.from_json(data), tuple(dirty), data.get("provenance_missing") is True,
                   tuple(str(p) for p in tree) if isinstance(tree, list) else None)


def plan_upload(config: Any, discovery: Any, taskdefs: list[dict[str, Any]], *,
                names: Iterable[str] | None = None, force: bool = False, require_clean: bool | None = False,
                remote_only: bool = False, overwrite_server_edits: bool = False,
                take_over: bool = False, git: GitState | None = None) -> UploadPlan:
    """What an upload of `names` (all: None) would do. `remote_only` keeps the orphaned and
    foreign definitions in the plan (the diff shows them); an upload never writes them. `git`: the checkout's
    state, read while discovery ran (None: read now)."""
    names = list(names or [])
    tasks = select_tasks(discovery, names)
    state = git if git is not None else git_state(config.base_dir)
    provenance = provenance_for(tasks, state, project=config.project_name)
    dirty = tuple(sorted(n for n, p in provenance.items() if p.dirty))
    if dirty and (config.require_clean if require_clean is None else require_clean):
        linked = outside_repository(tasks, state)
        raise RefusedError(f"uncommitted changes in task(s) {', '.join(dirty)}; nothing was written"
                           + (f" ({', '.join(linked)}: reached through a symlink out of the repository, so in no "
                              "commit)" if linked else ""), hint="commit them first, or drop --require-clean")
    plan = plan_definitions(config, tasks, taskdefs, force=force, provenance=provenance,
                            overwrite_server_edits=overwrite_server_edits, take_over=take_over)
    if names or not remote_only:
        plan = plan.select(t.name for t in tasks)
    return UploadPlan(plan, dirty, provenance_missing=not state.available,
                      tree_dirty=tuple(sorted(state.dirty_paths)) if state.available else None)


def apply_upload(session: Session, plan: Plan, *, recheck_server: bool = False,
                 progress: Progress | None = None) -> ApplyResult:
    """Back up, merge into the server copies, write in batches, read back once and account."""
    config = session.config
    return apply_plan(session.client, plan, state_dir=session.state_dir, batch_size=config.batch_size,
                      recheck_server=recheck_server, progress=progress, interruption=session.interruption)


def nothing_to_apply(plan: Plan) -> ApplyResult:
    return ApplyResult.empty(ACTIONS)


# ---- the operations -----------------------------------------------------------------------------
@dataclass
class UploadOutcome:
    """`tasks upload` (or a saved plan's apply): the plan with its Git state, and what was written."""
    planned: UploadPlan
    result: ApplyResult | None = None            # None: dry run

    @property
    def plan(self) -> Plan:
        return self.planned.plan

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def to_json(self, *, with_plan: bool = True) -> dict[str, Any]:
        """The upload document; `with_plan=False` leaves out its "plan" (what a text run prints needs none)."""
        dry_run = self.result is None
        doc = (self.result or ApplyResult.empty(ACTIONS)).to_json()
        doc.update({"dry_run": dry_run, "dirty": list(self.planned.dirty),
                    "provenance_missing": self.planned.provenance_missing,
                    "would_create": self.plan.names("create") if dry_run else [],
                    "would_update": self.plan.names("update") if dry_run else []})
        if with_plan:
            doc["plan"] = self.planned.to_json()
        doc["unchanged"] = [] if self.plan.forced and not dry_run else self.plan.names(UNCHANGED)
        return doc

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "UploadOutcome":
        planned = UploadPlan.from_json(data["plan"])
        return cls(planned, None if data.get("dry_run") else ApplyResult.from_json(data, ACTIONS))


def diff(session: Session, *, names: Iterable[str] | None = None, run: StepRunner = direct) -> UploadPlan:
    """`tasks diff`: what an upload would change, with what is only on the server."""
    discovery, taskdefs, state = _read_inputs(session, names, run)
    return run(plan_upload, session.config, discovery, taskdefs, names=names, remote_only=True, git=state)


def upload(session: Session, *, names: Iterable[str] | None = None, force: bool = False, dry_run: bool = False,
           require_clean: bool | None = None, overwrite_server_edits: bool = False, take_over: bool = False,
           progress: Report | None = None, preview: Callable[[UploadPlan], None] | None = None,
           leave: Iterable[str] = (), run: StepRunner = direct) -> UploadOutcome:
    """`tasks upload`: validate everything, write only creates and updates, verify.
    Refused (nothing written) when it would revert a server edit or restamp another project's
    definition without the flag that says so. `preview` sees the plan before anything is written.
    `leave`: definitions left out of the plan (server edits the sync's pull policy sent for review)."""
    discovery, taskdefs, state = _read_inputs(session, names, run, progress)
    planned = run(plan_upload, session.config, discovery, taskdefs, names=names, force=force,
                  require_clean=require_clean, overwrite_server_edits=overwrite_server_edits, take_over=take_over,
                  git=state)
    if leave:
        left = set(leave)
        planned = replace(planned, plan=planned.plan.select(i.name for i in planned.plan.items if i.name not in left))
    if dry_run:
        return UploadOutcome(planned)
    if preview is not None:
        preview(planned)
    return UploadOutcome(planned, _apply(session, planned.plan, run, progress))


def _read_inputs(session: Session, names: Iterable[str] | None, run: StepRunner, progress: Report | None = None
                 ) -> tuple[Any, list[dict[str, Any]], GitState]:
    """What a plan is made of: the task files, the server's definitions and the checkout's Git state."""
    phase(progress, DISCOVERING)
    with GitStateReading(session.config.base_dir) as git:   # git runs while discovery reads the files
        discovery = run(discover, session.config)
        select_tasks(discovery, names)  # invalid files refuse before any request
        phase(progress, READING)
        taskdefs = run(fetch_taskdefs, session)
        return discovery, taskdefs, git.result()


def _apply(session: Session, plan: Plan, run: StepRunner, progress: Report | None, *,
           recheck_server: bool = False) -> ApplyResult:
    refuse_unseen_reverts(plan)
    refuse_other_projects(plan)
    if not plan.to_write:
        return nothing_to_apply(plan)
    return run(apply_upload, session, plan, recheck_server=recheck_server, progress=counted(progress, UPLOADING))


def apply_saved_plan(session: Session, planned: UploadPlan, *, progress: Report | None = None,
                     run: StepRunner = direct) -> UploadOutcome:
    """`tasks apply PLAN`: only against the server it was made for, only if nothing it touches moved."""
    plan = planned.plan  # Plan.from_json has validated every item as an upload would
    config = session.config
    if plan.server_url and plan.server_url != config.safe_api_url:
        raise RefusedError(f"the plan was made for {plan.server_url}, not {config.safe_api_url}; nothing was written")
    if config.protected and planned.tree_dirty != ():
        made = ("outside Git or by an older idflow" if planned.tree_dirty is None
                else f"from a tree with {len(planned.tree_dirty)} uncommitted path(s): "
                     + ", ".join(planned.tree_dirty[:5]))
        raise RefusedError(f"{protected_label(config)} is protected and this plan was made {made}; "
                           "a clean tree now does not make the plan's content committed, so nothing was written",
                           hint="commit, then make a fresh plan ('idflow tasks diff --out plan.json') and apply it")
    return UploadOutcome(planned, _apply(session, plan, run, progress, recheck_server=True))


def apply_plan_file(session: Session, plan_file: Path, *, overwrite_server_edits: bool = False,
                    progress: Report | None = None, run: StepRunner = direct) -> UploadOutcome:
    """`tasks apply PLAN_FILE`: a plan written by `tasks diff --out`, applied as `apply_saved_plan` does."""
    planned = UploadPlan.from_json(read_plan_document(Path(plan_file)))
    if overwrite_server_edits:
        planned = replace(planned, plan=replace(planned.plan, overwrite_server_edits=True))
    return apply_saved_plan(session, planned, progress=progress, run=run)


@dataclass
class Listing:
    """`tasks list --sync`: every local and remote definition with its status, and the file problems."""

    plan: Plan
    discovery: Any

    def to_json(self, *, verbose: bool = False) -> dict[str, Any]:
        doc: dict[str, Any] = self.plan.summary()
        if verbose:
            doc["changes"] = {i.name: [{"field": c.field, "old": c.old, "new": c.new} for c in i.changes]
                              for i in self.plan.of("update")}
        doc["errors"] = [{"path": e.path, "line": e.line, "message": e.message} for e in self.discovery.errors]
        return doc


def list_sync(session: Session, *, run: StepRunner = direct) -> Listing:
    discovery = run(discover, session.config)
    taskdefs = run(fetch_taskdefs, session)
    return Listing(plan_definitions(session.config, discovery.tasks, taskdefs), discovery)
