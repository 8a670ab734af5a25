"""A plan is data: desired vs actual TaskDefs -> what to create, update, leave, purge.

`make_plan` is a pure function. A Plan serialises to JSON and back, can be shown,
published as an artifact, and applied later: each item keeps a fingerprint of the
server copy it saw, so `apply` can refuse when the server moved underneath it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any, Iterable

from idflow import taskdef
from idflow.provenance import Provenance, parse_provenance

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
        return next((i for i in self.items if i.name == name), None)

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
    def from_json(cls, data: dict[str, Any]) -> "Plan":
        if data.get("format") != PLAN_FORMAT or not isinstance(data.get("items"), list):
            raise ValueError(f"not an idflow plan (format {PLAN_FORMAT})")
        items = []
        for raw in data["items"]:
            if raw.get("action") not in ACTIONS or not isinstance(raw.get("name"), str):
                raise ValueError(f"plan item {raw.get('name')!r} has an unknown action {raw.get('action')!r}")
            prov = raw.get("provenance")
            items.append(PlanItem(
                name=raw["name"], action=raw["action"], desired=raw.get("desired"), actual=raw.get("actual"),
                changes=tuple(FieldChange(**c) for c in raw.get("changes", [])), source=raw.get("source"),
                seen=raw.get("seen"), provenance=Provenance(**prov) if prov else None))
        return cls(tuple(items), data.get("server_url", ""), data.get("created_at", ""), bool(data.get("forced")))


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
