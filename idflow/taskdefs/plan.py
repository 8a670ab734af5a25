"""A plan is data: desired vs actual TaskDefs -> what to create, update, leave, purge.

`make_plan` is a pure function. A Plan serialises to JSON and back, can be shown,
published as an artifact, and applied later: each item keeps a fingerprint of the
server copy it saw, so `apply` can refuse when the server moved underneath it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, Iterable

from idflow.taskdefs import fields as taskdef
from idflow.errors import IdflowError, InvalidPlan
from idflow.provenance.trailer import Provenance, parse_provenance

CREATE, UPDATE, UNCHANGED, ORPHANED, FOREIGN = "create", "update", "unchanged", "orphaned", "foreign"
ACTIONS = (CREATE, UPDATE, UNCHANGED, ORPHANED, FOREIGN)
PLAN_FORMAT = 1


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class PlanItem:
    name: str
    action: str
    desired: dict[str, Any] | None = None    # owned fields idflow wants (no provenance)
    actual: dict[str, Any] | None = None     # the server copy as seen
    changes: tuple[FieldChange, ...] = ()
    source: str | None = None                # "path:line" of the task file
    seen: str | None = None                  # fingerprint of `actual` (None: absent)
    provenance: Provenance | None = None     # on the server copy (remote) or to stamp (desired)

    @property
    def writes(self) -> bool:
        return self.action in (CREATE, UPDATE)


@dataclass(frozen=True)
class Plan:
    items: tuple[PlanItem, ...]
    server_url: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    forced: bool = False

    def of(self, *actions: str) -> list[PlanItem]:
        return [i for i in self.items if i.action in actions]

    def names(self, *actions: str) -> list[str]:
        return [i.name for i in self.of(*actions)]

    @property
    def to_write(self) -> list[PlanItem]:
        """Items an apply writes: creates and updates, plus unchanged ones when forced."""
        return [i for i in self.items if i.writes or (self.forced and i.action == UNCHANGED)]

    @property
    def has_drift(self) -> bool:
        return any(i.writes for i in self.items)

    def item(self, name: str) -> PlanItem | None:
        return self._by_name.get(name)

    @cached_property
    def _by_name(self) -> dict[str, PlanItem]:
        """Items by name, built once: a purge looks up every orphan (first item of a name wins)."""
        found: dict[str, PlanItem] = {}
        for item in self.items:
            found.setdefault(item.name, item)
        return found

    def select(self, names: Iterable[str]) -> "Plan":
        wanted = set(names)
        return Plan(tuple(i for i in self.items if i.name in wanted), self.server_url, self.created_at, self.forced)

    def counts(self) -> dict[str, int]:
        return {a: len(self.of(a)) for a in ACTIONS}

    def summary(self) -> dict[str, list[str]]:
        """The `tasks list --sync --json` document: names by category."""
        local = [i.name for i in self.items if i.desired is not None]
        remote = [i.name for i in self.items if i.actual is not None]
        return {"local": local, "remote": remote,
                "common": [i.name for i in self.items if i.desired is not None and i.actual is not None],
                "in_sync": self.names(UNCHANGED), "changed": self.names(UPDATE), "local_only": self.names(CREATE),
                "remote_only": self.names(ORPHANED, FOREIGN), "orphaned": self.names(ORPHANED),
                "foreign": self.names(FOREIGN)}

    def to_json(self) -> dict[str, Any]:
        return {"format": PLAN_FORMAT, "server_url": self.server_url, "created_at": self.created_at,
                "forced": self.forced, "counts": self.counts(),
                "items": [_item_json(i) for i in self.items]}

    @classmethod
    def from_json(cls, data: Any) -> "Plan":
        """A plan read back from JSON, checked as strictly as an upload checks task files."""
        if not isinstance(data, dict) or data.get("format") != PLAN_FORMAT or not isinstance(data.get("items"), list):
            raise InvalidPlan(f"not an idflow plan (format {PLAN_FORMAT})")
        problems = [p for index, raw in enumerate(data["items"]) for p in _item_problems(index, raw)]
        if problems:
            shown = "; ".join(problems[:10]) + (f" (and {len(problems) - 10} more)" if len(problems) > 10 else "")
            raise InvalidPlan(f"the plan has {len(problems)} problem(s), so nothing was written: {shown}",
                              hint="make a fresh plan with 'idflow tasks diff --out plan.json'; never edit one by hand")
        items = []
        for raw in data["items"]:
            prov = raw.get("provenance")
            items.append(PlanItem(
                name=raw["name"], action=raw["action"], desired=raw.get("desired"), actual=raw.get("actual"),
                changes=tuple(FieldChange(c["field"], c.get("old"), c.get("new")) for c in raw.get("changes") or []),
                source=raw.get("source"), seen=raw.get("seen"), provenance=Provenance(**prov) if prov else None))
        return cls(tuple(items), str(data.get("server_url") or ""), str(data.get("created_at") or ""),
                   data.get("forced") is True)




def read_plan_document(path: Any) -> dict[str, Any]:
    """The JSON object in a saved plan file, read by the bounded reader; any other file is an InvalidPlan."""
    from idflow.errors import InputFileError
    from idflow.reading import read_json

    try:
        data = read_json(path, what="plan")
    except InputFileError as exc:
        raise InvalidPlan(f"{exc.message}; it is not an idflow plan, so nothing was written",
                          hint="make a fresh plan with 'idflow tasks diff --out plan.json'") from None
    if not isinstance(data, dict):
        raise InvalidPlan(f"{path} is not an idflow plan (not a JSON object)")
    return data


def _item_problems(index: int, raw: Any) -> list[str]:
    """Why plan item `index` cannot be applied (empty: it can); the same checks as an upload."""
    from idflow.taskdefs.validation import name_problem, validate, wire_type_errors

    if not isinstance(raw, dict):
        return [f"item {index} is not an object"]
    name = raw.get("name")
    label = f"item {index} ({name[:80]!r})" if isinstance(name, str) else f"item {index}"
    if raw.get("action") not in ACTIONS:
        return [f"{label} has an unknown action {str(raw.get('action'))[:40]!r}"]
    problems = []
    desired = raw.get("desired")
    for key in ("actual", "provenance"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            problems.append(f"{label}: {key} is not an object")
    for key in ("source", "seen"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            problems.append(f"{label}: {key} is not a string")
    changes = raw.get("changes") or []
    if not isinstance(changes, list) or not all(isinstance(c, dict) and isinstance(c.get("field"), str)
                                                 for c in changes):
        problems.append(f"{label}: changes is not a list of field changes")
    if isinstance(raw.get("provenance"), dict) and not _provenance_ok(raw["provenance"]):
        problems.append(f"{label}: provenance is not an idflow stamp")
    if raw["action"] in (ORPHANED, FOREIGN):  # never written: the name is whatever the server holds
        if not isinstance(name, str) or not name:
            problems.append(f"{label}: name must be a non-empty string")
        if desired is not None:
            problems.append(f"{label}: a {raw['action']} item has no desired definition")
        return problems
    problem = name_problem(name)
    if problem:
        return problems + [f"{label}: {problem}"]
    if not isinstance(desired, dict):
        return problems + [f"{label}: a {raw['action']} item needs its desired definition"]
    if desired.get("name") != name:
        problems.append(f"{label}: its desired definition is named {str(desired.get('name'))[:80]!r}, "
                        f"not {name[:80]!r}")
    problems += [f"{label}: {p}" for p in wire_type_errors(desired) + validate(desired)]
    return problems


def _provenance_ok(data: dict[str, Any]) -> bool:
    known = {f.name for f in dataclass_fields(Provenance)}
    return (set(data) <= known and {"sha", "dirty", "path", "hash", "at"} <= set(data)
            and isinstance(data["dirty"], bool)
            and all(data.get(k) is None or isinstance(data[k], str) for k in known - {"dirty"}))


def _item_json(item: PlanItem) -> dict[str, Any]:
    data = asdict(item)
    data["changes"] = [asdict(c) for c in item.changes]
    return data


def fingerprint(server_copy: dict[str, Any] | None) -> str | None:
    """Identity of a server copy as seen: any write to it (updateTime included) changes it."""
    if server_copy is None:
        return None
    canonical = json.dumps(server_copy, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def make_plan(desired: Iterable[dict[str, Any]], actual: Iterable[dict[str, Any]], *,
              sources: dict[str, str] | None = None, provenance: dict[str, Provenance] | None = None,
              force: bool = False, server_url: str = "", project: str | None = None) -> Plan:
    """Compare desired wire defs (from discovery) with the server's copies.

    A remote-only definition is an orphan only if this project uploaded it; one stamped
    by another idflow project (or never stamped) is foreign and not ours to purge.
    """
    remote = {d["name"]: d for d in actual if isinstance(d.get("name"), str)}
    sources = sources or {}
    provenance = provenance or {}
    items: list[PlanItem] = []
    wanted = {d["name"]: d for d in desired}
    for name in sorted(wanted):
        want, have = wanted[name], remote.get(name)
        if have is None:
            items.append(PlanItem(name, CREATE, desired=want, source=sources.get(name),
                                  provenance=provenance.get(name)))
            continue
        diff = taskdef.field_differences(want, have)
        changes = tuple(FieldChange(f, old, new) for f, (old, new) in diff.items())
        items.append(PlanItem(name, UPDATE if changes else UNCHANGED, desired=want, actual=have, changes=changes,
                              source=sources.get(name), seen=fingerprint(have), provenance=provenance.get(name)))
    for name in sorted(set(remote) - set(wanted)):
        have = remote[name]
        stamp = parse_provenance(have.get("description"))
        ours = stamp is not None and (project is None or stamp.project == project)
        items.append(PlanItem(name, ORPHANED if ours else FOREIGN, actual=have, seen=fingerprint(have),
                              provenance=stamp))
    return Plan(tuple(items), server_url=server_url, forced=force)
