"""History and rollback: definitions through Git (the working tree is never touched)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from idflow.base.errors import IdflowError, NotFound, PrefectUnreachable, RefusedError, SyncScheduleActive
from idflow.project.schedules import SyncSchedule, active_sync_schedules, pause_schedules, resume_schedules, safe
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.tasks import UploadOutcome, UploadPlan, discover, fetch_taskdefs, nothing_to_apply
from idflow.usecases.tasks import apply_upload, plan_definitions, select_tasks
from idflow.model import fields as taskdef
from idflow.provenance.history import definitions_at, open_tree, history as definition_history
from idflow.provenance.trailer import Provenance, content_hash, parse_provenance


@dataclass
class History:
    """The commits that changed one task's definition, and which of them the server holds."""

    name: str
    entries: list[Any]                  # gitsource.HistoryEntry, newest first
    server: dict[str, Any] | None       # the server copy (None: not on the server)
    server_sha: str | None              # the commit its provenance stamp names
    server_matches: str | None          # the newest commit whose definition the server copy equals
    shallow: tuple[str, ...] = ()       # a shallow clone: history stops at these commits

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "server_sha": self.server_sha, "server_matches": self.server_matches,
                "on_server": self.server is not None, "truncated_at": list(self.shallow),
                "commits": [{"sha": e.commit.sha, "date": e.commit.date, "author": e.commit.author,
                             "subject": e.commit.subject, "deleted": e.task_def is None,
                             "changes": [{"field": f, "old": o, "new": n} for f, o, n in e.changes]}
                            for e in self.entries]}


def history(session: Session, name: str) -> History:
    config = session.config
    tree = open_tree(config.resolve(config.tasks_dir))
    local = discover(config).by_name().get(name)
    task_dir = ""
    if local is not None:
        task_dir = tree.task_dir_rel(config.resolve(local.task_dir))
    entries = definition_history(tree, task_dir, name)
    if not entries:
        raise IdflowError(f"no commit in {tree.tasks_rel or '.'} defines a task named {name!r}"
                          + (" (this clone is shallow: history is truncated)" if tree.shallow else ""))
    try:
        server = session.client.get_taskdef(name)
    except NotFound:
        server = None
    stamped = parse_provenance(server.get("description")) if server else None
    holds = None
    if server is not None:
        holds = next((e.commit.sha for e in entries
                      if e.task_def is not None and not taskdef.field_differences(e.task_def, server)), None)
    return History(name, entries, server, stamped.sha if stamped else None, holds, tree.shallow)


@dataclass(frozen=True)
class ScheduleGuard:
    """How a rollback treats scheduled syncs. Argo CD's rule: no rollback while automated sync is on,
    since the next sync would put the branch's definitions back without a word."""

    api_url: str | None                   # Prefect's API (PREFECT_API_URL); None: not configured
    pause: bool = False                   # --pause-schedules: pause the active ones, then roll back
    proceed_unchecked: bool = False       # --yes: roll back even when Prefect cannot be asked


@dataclass
class ScheduleCheck:
    """What the guard found: the active sync schedules, those it paused, or why it could not look."""

    api_url: str | None
    checked: bool
    active: list[SyncSchedule] = field(default_factory=list)
    paused: list[SyncSchedule] = field(default_factory=list)
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"prefect_api_url": safe(self.api_url) if self.api_url else None, "checked": self.checked,
                "active": [s.to_json() for s in self.active], "paused": [s.to_json() for s in self.paused],
                "note": self.note}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ScheduleCheck":
        def schedules(key: str) -> list[SyncSchedule]:
            return [SyncSchedule(s["deployment_id"], s["deployment"], s["schedule_id"], s["schedule"],
                                 s.get("environment")) for s in data.get(key) or []]

        return cls(data.get("prefect_api_url"), bool(data.get("checked")), schedules("active"), schedules("paused"),
                   data.get("note"))


def check_sync_schedules(guard: ScheduleGuard, environment: str | None) -> ScheduleCheck:
    """Refuse (exit 3) while a sync schedule for this environment is active, unless told to pause
    it; refuse when Prefect cannot be asked, unless told to go on (--yes)."""
    try:
        if not guard.api_url:
            raise PrefectUnreachable("Prefect is not configured (no PREFECT_API_URL)")
        active = active_sync_schedules(guard.api_url, environment=environment)
    except PrefectUnreachable as exc:
        note = f"{exc.message}: cannot check for a scheduled sync that would undo this rollback"
        if not guard.proceed_unchecked:
            raise RefusedError(f"{note}; nothing was changed",
                               hint="make PREFECT_API_URL reach the Prefect server, or pass --yes to roll back "
                                    "unchecked (a scheduled sync may then undo it)") from None
        return ScheduleCheck(guard.api_url, False, note=note + "; going on because of --yes")
    if active and not guard.pause:
        listed = ", ".join(f"{s.deployment} ({s.schedule})" for s in active)
        raise SyncScheduleActive(
            f"refused: {len(active)} active sync schedule(s) would undo this rollback at their next run: {listed}; "
            "nothing was changed",
            hint="either rerun with --pause-schedules (pauses them through the Prefect API and prints how to "
                 "resume them), or revert the commit in Git and let the scheduled sync apply it")
    return ScheduleCheck(guard.api_url, True, active)


@dataclass
class RollbackOutcome:
    """`tasks rollback`: the commit gone back to, the upload that did it, and the sync schedules checked."""
    to: str                               # the full commit sha
    upload: UploadOutcome
    schedules: ScheduleCheck | None = None  # None: not checked (dry run, nothing to write, no guard)

    @property
    def ok(self) -> bool:
        return self.upload.ok

    def to_json(self) -> dict[str, Any]:
        doc = self.upload.to_json()
        doc["to"] = self.to
        doc["would_change"] = self.upload.plan.names("create", "update")
        doc["schedules"] = self.schedules.to_json() if self.schedules else None
        return doc

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "RollbackOutcome":
        schedules = ScheduleCheck.from_json(data["schedules"]) if data.get("schedules") else None
        return cls(data["to"], UploadOutcome.from_json(data), schedules)


def plan_rollback(session: Session, rev: str, names: Iterable[str] | None,
                  taskdefs: list[dict[str, Any]]) -> tuple[str, UploadPlan]:
    """The definitions at `rev`, stamped with that commit, against the server's copies (pure but for Git)."""
    config = session.config
    tree = open_tree(config.resolve(config.tasks_dir))
    names = list(names) if names else None
    discovery, sha = definitions_at(tree, rev, names)
    tasks = select_tasks(discovery, names)
    at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    provenance = {t.name: Provenance(sha=sha, dirty=False, path=t.path, hash=content_hash(t.task_def), at=at,
                                     project=config.project_name) for t in tasks}
    plan = plan_definitions(config, tasks, taskdefs, provenance=provenance).select(t.name for t in tasks)
    return sha, UploadPlan(plan)


def rollback(session: Session, rev: str, *, names: Iterable[str] | None = None, dry_run: bool = False,
             confirm: Confirm | None = None, schedules: ScheduleGuard | None = None,
             run: StepRunner = direct) -> RollbackOutcome:
    """`tasks rollback`: put back the definitions as they were at `rev`; backs up what it overwrites.
    With a `schedules` guard, first make sure no scheduled sync undoes it (see check_sync_schedules)."""
    taskdefs = run(fetch_taskdefs, session)
    sha, planned = plan_rollback(session, rev, names, taskdefs)
    if dry_run:
        return RollbackOutcome(sha, UploadOutcome(planned))
    if not planned.plan.to_write:
        return RollbackOutcome(sha, UploadOutcome(planned, nothing_to_apply(planned.plan)))
    checked = check_sync_schedules(schedules, getattr(session.config, "environment", None)) if schedules else None
    if confirm is not None:
        confirm((sha, planned))
    if checked is None or not checked.active:
        return RollbackOutcome(sha, UploadOutcome(planned, run(apply_upload, session, planned.plan)), checked)
    # Only reached with --pause-schedules: the write's own checks (protection, --yes) come before any pause.
    session.client.ensure_writable()
    pause_schedules(checked.api_url, checked.active)
    checked.paused = list(checked.active)
    try:
        result = run(apply_upload, session, planned.plan)
    except BaseException as exc:
        _resume_after_failure(checked, exc)
        raise
    if not result.ok:
        _resume_after_failure(checked, None)
    return RollbackOutcome(sha, UploadOutcome(planned, result), checked)


def _resume_after_failure(checked: ScheduleCheck, error: BaseException | None) -> None:
    """A rollback that did not complete must not leave the sync paused unknowingly: resume, or say how."""
    left = resume_schedules(checked.api_url, checked.paused)
    checked.paused = [s for s in checked.paused if s.resume_command in left]
    if left and isinstance(error, IdflowError):
        error.hint = ((error.hint + "; ") if error.hint else "") + "resume the paused sync with: " + "; ".join(left)
