"""`tasks adopt`: take over definitions stamped under an older project identity, explicitly.

An identity change (a directory name before issue 16, a new `project:`) leaves this
project's earlier uploads stamped with the old one: foreign to every plan, never purged.
Adopting re-stamps them with the current identity and touches nothing else. Steps:
`fetch_taskdefs` (edge), `plan_adopt` (pure), `execute_adopt` (backup, write, read back).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

from idflow.base.errors import RefusedError
from idflow.base.progress import READING, Report, counted, phase
from idflow.engine.write import Write, WriteResult, execute
from idflow.project.identity import _scp_like, normalise_remote, require_identity
from idflow.provenance.trailer import parse_provenance, stamp
from idflow.taskdefs.kind import upserts
from idflow.usecases.session import Session
from idflow.usecases.steps import Confirm, StepRunner, direct
from idflow.usecases.tasks import fetch_taskdefs


ADOPTING = "re-stamping"
UNSTAMPED = None   # `from_project` for definitions idflow stamped without any project


def adoption_source(value: str | None) -> str | None:
    """What `--from` names, as stamps spell it: a remote URL in any form (https, ssh, scp-like, with or
    without .git) becomes the identity idflow derives from it; any other value is a `project:` as given."""
    if value is None:
        return UNSTAMPED
    text = value.strip()
    if "://" in text or _scp_like(text):
        return normalise_remote(text) or text
    return text


@dataclass(frozen=True)
class AdoptPlan:
    """What `tasks adopt` would re-stamp: definitions stamped by an older project identity, and names it cannot."""
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


ADOPTED = ("adopted",)
AdoptResult = WriteResult   # the engine's account, its one action "adopted"


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


def execute_adopt(session: Session, plan: AdoptPlan, taskdefs: list[dict[str, Any]],
                  progress: Report | None = None) -> WriteResult:
    """Back up the server copies, write them re-stamped (nothing else changes), read back once."""
    chosen = set(plan.names)
    writes = []
    for copy in (d for d in taskdefs if d.get("name") in chosen):
        old = parse_provenance(copy.get("description"))
        restamped = stamp(copy.get("description"), dataclasses.replace(old, project=plan.to_project))
        writes.append(Write(copy["name"], "adopted", {**copy, "description": restamped}, replaces=copy))

    def stamped_new(write: Write, held: dict[str, Any] | None) -> list[str]:
        found = parse_provenance((held or {}).get("description"))
        return [] if found is not None and found.project == plan.to_project else [
            "not stamped with the new identity on read back"]

    config = session.config
    return execute(session.client, writes, upserts(config.batch_size, expect=stamped_new),
                   state_dir=session.state_dir, reason="adopt", actions=ADOPTED, server_url=config.safe_api_url,
                   progress=counted(progress, ADOPTING), interruption=session.interruption)


@dataclass
class AdoptOutcome:
    """`tasks adopt`: the plan and what writing it did (nothing on a dry run)."""
    plan: AdoptPlan
    result: AdoptResult | None = None     # None: a dry run, or nothing to adopt

    @property
    def dry_run(self) -> bool:
        return self.result is None and bool(self.plan.names)

    @property
    def ok(self) -> bool:
        return self.result is None or self.result.ok

    def to_json(self) -> dict[str, Any]:
        result = self.result or AdoptResult.empty(ADOPTED)
        return {**self.plan.to_json(), "dry_run": self.dry_run,
                "would_adopt": list(self.plan.names) if self.dry_run else [], **result.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "AdoptOutcome":
        plan = AdoptPlan.from_json(data)
        if data.get("dry_run") or not plan.names:
            return cls(plan)
        return cls(plan, AdoptResult.from_json(data, ADOPTED))


def adopt(session: Session, from_project: str | None, *, names: Iterable[str] = (), dry_run: bool = False,
          confirm: Confirm | None = None, progress: Report | None = None, run: StepRunner = direct) -> AdoptOutcome:
    """`tasks adopt --from OLD [NAME...]` (None: those stamped without a project): plan, show (confirm),
    back up, re-stamp, read back."""
    to_project = require_identity(session.config.identity, "tasks adopt")
    phase(progress, READING)
    taskdefs = run(fetch_taskdefs, session)
    plan = run(plan_adopt, taskdefs, adoption_source(from_project), to_project, list(names))
    if dry_run or not plan.names:
        return AdoptOutcome(plan)
    if confirm is not None:
        confirm(plan)
    return AdoptOutcome(plan, run(execute_adopt, session, plan, taskdefs, progress))
