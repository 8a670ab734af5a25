"""`tasks adopt`: take over definitions stamped under an older project identity, explicitly.

An identity change (a directory name before issue 16, a new `project:`) leaves this
project's earlier uploads stamped with the old one: foreign to every plan, never purged.
Adopting re-stamps them with the current identity and touches nothing else. Steps:
`fetch_taskdefs` (edge), `plan_adopt` (pure), `execute_adopt` (backup, write, read back).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Iterable

from idflow.base.errors import ConductorError, RefusedError
from idflow.base.interrupt import requested, writing
from idflow.project.identity import require_identity
from idflow.provenance.trailer import parse_provenance, stamp
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.tasks import fetch_taskdefs


UNSTAMPED = None   # `from_project` for definitions idflow stamped without any project


def adoption_source(value: str | None) -> str | None:
    """What `--from` names, as stamps spell it: a remote URL in any form (https, ssh, scp-like, with or
    without .git) becomes the identity idflow derives from it; any other value is a `project:` as given."""
    from idflow.project.identity import _scp_like, normalise_remote

    if value is None:
        return UNSTAMPED
    text = value.strip()
    if "://" in text or _scp_like(text):
        return normalise_remote(text) or text
    return text


@dataclass(frozen=True)
class AdoptPlan:
    from_project: str | None                      # None: stamped without a project
    to_project: str
    names: tuple[str, ...]                        # stamped by from_project: these are re-stamped
    skipped: tuple[tuple[str, str], ...] = ()     # (name, why not) for names asked for that cannot be

    def to_json(self) -> dict[str, Any]:
        return {"from": self.from_project, "to": self.to_project, "names": list(self.names),
                "skipped": [{"name": n, "reason": r} for n, r in self.skipped]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AdoptPlan":
        return cls(data["from"], data["to"], tuple(data["names"]),
                   tuple((s["name"], s["reason"]) for s in data.get("skipped") or ()))


@dataclass
class AdoptResult:
    adopted: list[str] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)   # name, error: not stamped `to` on read back
    backup: str | None = None
    not_attempted: list[str] = field(default_factory=list)       # a signal stopped the writes before these

    @property
    def ok(self) -> bool:
        return not self.failed and not self.not_attempted


def plan_adopt(taskdefs: list[dict[str, Any]], from_project: str, to_project: str,
               names: Iterable[str] = ()) -> AdoptPlan:
    """Which server definitions carry `from_project`'s stamp (all, or those of `names`)."""
    if from_project == to_project:
        raise RefusedError(f"--from {from_project} is already this project's identity: nothing to adopt")
    stamped = {d["name"]: parse_provenance(d.get("description")) for d in taskdefs if isinstance(d.get("name"), str)}
    wanted = list(dict.fromkeys(names)) or sorted(stamped)
    chosen, skipped = [], []
    for name in wanted:
        found = stamped.get(name, False)
        if found is False:
            skipped.append((name, "not on the server"))
        elif found is None:
            skipped.append((name, "not stamped by idflow"))
        elif found.project != from_project:
            if names:
                expected = repr(from_project) if from_project else "without a project"
                skipped.append((name, f"stamped by project {found.project!r}, not {expected}"))
        else:
            chosen.append(name)
    return AdoptPlan(from_project, to_project, tuple(chosen), tuple(skipped))


def execute_adopt(session: Session, plan: AdoptPlan, taskdefs: list[dict[str, Any]]) -> AdoptResult:
    """Back up the server copies, write them re-stamped (nothing else changes), read back once."""
    from idflow.engine.backups import write_backup

    config = session.config
    copies = [d for d in taskdefs if d.get("name") in set(plan.names)]
    result = AdoptResult(backup=str(write_backup(session.state_dir, "adopt", copies, server_url=config.safe_api_url)))
    restamped = []
    for copy in copies:
        old = parse_provenance(copy.get("description"))
        restamped.append({**copy, "description": stamp(copy.get("description"),
                                                       dataclasses.replace(old, project=plan.to_project))})
    sent: list[str] = []
    with writing(session.interruption):
        for start in range(0, len(restamped), config.batch_size):
            if requested(session.interruption):  # a signal: no new batch starts; the read-back accounts
                break
            batch = restamped[start:start + config.batch_size]
            sent += [d["name"] for d in batch]
            try:
                session.client.upsert_taskdefs(batch)
            except ConductorError:
                continue  # the read-back says what the server holds
    after = {d.get("name"): parse_provenance(d.get("description")) for d in session.client.list_taskdefs()}
    for name in plan.names:
        found = after.get(name)
        if found is not None and found.project == plan.to_project:
            result.adopted.append(name)
        elif name not in sent:
            result.not_attempted.append(name)
        else:
            result.failed.append({"name": name, "error": "not stamped with the new identity on read back"})
    return result


@dataclass
class AdoptOutcome:
    plan: AdoptPlan
    result: AdoptResult | None = None     # None: a dry run, or nothing to adopt

    @property
    def dry_run(self) -> bool:
        return self.result is None and bool(self.plan.names)

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def to_json(self) -> dict[str, Any]:
        result = self.result or AdoptResult()
        return {**self.plan.to_json(), "dry_run": self.dry_run,
                "would_adopt": list(self.plan.names) if self.dry_run else [],
                "adopted": result.adopted, "failed": result.failed, "not_attempted": result.not_attempted,
                "backup": result.backup}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AdoptOutcome":
        plan = AdoptPlan.from_json(data)
        if data.get("dry_run") or not plan.names:
            return cls(plan)
        return cls(plan, AdoptResult(list(data["adopted"]), list(data["failed"]), data.get("backup"),
                                     list(data.get("not_attempted") or [])))


def adopt(session: Session, from_project: str | None, *, names: Iterable[str] = (), dry_run: bool = False,
          confirm: Confirm | None = None, run: StepRunner = direct) -> AdoptOutcome:
    """`tasks adopt --from OLD [NAME...]` (None: those stamped without a project): plan, show (confirm),
    back up, re-stamp, read back."""
    to_project = require_identity(session.config.identity, "tasks adopt")
    taskdefs = run(fetch_taskdefs, session)
    plan = run(plan_adopt, taskdefs, adoption_source(from_project), to_project, list(names))
    if dry_run or not plan.names:
        return AdoptOutcome(plan)
    if confirm is not None:
        confirm(plan)
    return AdoptOutcome(plan, run(execute_adopt, session, plan, taskdefs))
