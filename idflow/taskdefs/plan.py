"""A plan is data: desired vs actual TaskDefs -> what to create, update, leave, purge.

`make_plan` is a pure function. A Plan serialises to JSON and back, can be shown,
published as an artifact, and applied later: each item keeps a fingerprint of the
server copy it saw, so `apply` can refuse when the server moved underneath it.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace, fields as dataclass_fields
from datetime import datetime, timezone
from functools import cached_property
from typing import Any, Iterable

from idflow.model import fields as taskdef
from idflow.base.errors import IdflowError, InvalidPlan, InputFileError
from idflow.provenance.trailer import Provenance, base_fields, content_hash, parse_provenance
from idflow.base.reading import read_json
from idflow.model.validation import name_problem, validate, wire_type_errors

CREATE, UPDATE, UNCHANGED, ORPHANED, FOREIGN = "create", "update", "unchanged", "orphaned", "foreign"
# Three-way (the stamp's hash is the base): the server moved since idflow wrote it, the code did not (EDITED),
# or both moved (CONFLICT). Neither is written without --overwrite-server-edits.
EDITED, CONFLICT = "edited_on_server", "conflict"
# Stamped by this project, in no local file, and not provably unwanted (idflow.provenance.lineage): kept.
UNCERTAIN = "uncertain"
ACTIONS = (CREATE, UPDATE, UNCHANGED, EDITED, CONFLICT, ORPHANED, UNCERTAIN, FOREIGN)
SERVER_EDITS = (EDITED, CONFLICT)
REMOTE_ONLY = (ORPHANED, UNCERTAIN, FOREIGN)
PLAN_FORMAT = 1


@dataclass(frozen=True)
class FieldChange:
    """One owned field where the task definition in code differs from the server's: its old and new values."""
    field: str
    old: Any
    new: Any


SEEN_LATER: Any = type("SeenLater", (), {"__repr__": lambda self: "SEEN_LATER"})()


class _SeenOnFirstRead:
    """`PlanItem.seen` made with SEEN_LATER: the fingerprint of `actual`, computed on first read and kept.

    Most plans are shown and dropped: a fingerprint is needed only when the plan is written out (JSON,
    a saved plan, an artifact) or applied, so no plan pays one hash per server copy up front. A
    non-data descriptor: a value the item holds (given, or computed once) is read before it."""

    def __get__(self, item: Any, owner: type | None = None) -> Any:
        if item is None:
            return None   # the dataclass default
        value = fingerprint(item.actual)
        item.__dict__["seen"] = value
        return value


@dataclass(frozen=True)
class PlanItem:
    """One task definition in a plan: its action, the desired and server copies, the changes and the stamps seen."""
    name: str
    action: str
    desired: dict[str, Any] | None = None    # owned fields idflow wants (no provenance)
    actual: dict[str, Any] | None = None     # the server copy as seen
    changes: tuple[FieldChange, ...] = ()
    source: str | None = None                # "path:line" of the task file
    seen: str | None = None                  # fingerprint of `actual` (None: absent)
    provenance: Provenance | None = None     # on the server copy (remote) or to stamp (desired)
    reason: str = ""                         # why an item is uncertain
    owner: str | None = None                 # another idflow project that stamped the server copy
    base: Provenance | None = None           # the server copy's stamp, when it is this project's (three-way)

    def __post_init__(self) -> None:
        if self.__dict__.get("seen") is SEEN_LATER:
            del self.__dict__["seen"]   # read through _SeenOnFirstRead

    @property
    def writes(self) -> bool:
        return self.action in (CREATE, UPDATE)


PlanItem.seen = _SeenOnFirstRead()  # type: ignore[assignment]  # after @dataclass: None stays the field's default


@dataclass(frozen=True)
class Plan:
    """Desired vs actual task definitions: one item per name, and what an apply may write (forced, take over)."""
    items: tuple[PlanItem, ...]
    server_url: str = ""
    created_at: str = field(default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds"))
    forced: bool = False
    overwrite_server_edits: bool = False     # write EDITED and CONFLICT items too (reverting the server's edit)
    take_over: bool = False                  # write over another idflow project's stamp (the move is recorded)

    def of(self, *actions: str) -> list[PlanItem]:
        return [i for i in self.items if i.action in actions]

    def names(self, *actions: str) -> list[str]:
        return [i.name for i in self.of(*actions)]

    @property
    def to_write(self) -> list[PlanItem]:
        """Items an apply writes: creates and updates, plus unchanged ones when forced."""
        return [i for i in self.items if i.writes or (self.forced and i.action == UNCHANGED)
                or (self.overwrite_server_edits and i.action in SERVER_EDITS)]

    @property
    def has_drift(self) -> bool:
        return any(i.writes or i.action in SERVER_EDITS for i in self.items)

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
        return replace(self, items=tuple(i for i in self.items if i.name in wanted))

    def counts(self) -> dict[str, int]:
        return {a: len(self.of(a)) for a in ACTIONS}

    def summary(self) -> dict[str, list[str]]:
        """The `tasks list --sync --json` document: names by category."""
        local = [i.name for i in self.items if i.desired is not None]
        remote = [i.name for i in self.items if i.actual is not None]
        return {"local": local, "remote": remote,
                "common": [i.name for i in self.items if i.desired is not None and i.actual is not None],
                "in_sync": self.names(UNCHANGED), "changed": self.names(UPDATE),
                "edited_on_server": self.names(EDITED), "conflict": self.names(CONFLICT),
                "local_only": self.names(CREATE), "remote_only": self.names(*REMOTE_ONLY),
                "orphaned": self.names(ORPHANED), "uncertain": {i.name: i.reason for i in self.of(UNCERTAIN)},
                "foreign": self.names(FOREIGN), "other_projects": self.owners()}

    def owners(self) -> dict[str, str]:
        """{name: project} for every server copy another idflow project stamped."""
        return {i.name: i.owner for i in self.items if i.owner}

    def to_json(self) -> dict[str, Any]:
        return {"format": PLAN_FORMAT, "server_url": self.server_url, "created_at": self.created_at,
                "forced": self.forced, "overwrite_server_edits": self.overwrite_server_edits,
                "take_over": self.take_over, "counts": self.counts(),
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
            prov, base = raw.get("provenance"), raw.get("base")
            items.append(PlanItem(
                name=raw["name"], action=raw["action"], desired=raw.get("desired"), actual=raw.get("actual"),
                changes=tuple(FieldChange(c["field"], c.get("old"), c.get("new")) for c in raw.get("changes") or []),
                source=raw.get("source"), seen=raw.get("seen"), provenance=Provenance(**prov) if prov else None,
                reason=str(raw.get("reason") or ""), owner=raw.get("owner"),
                base=Provenance(**base) if base else None))
        return cls(tuple(items), str(data.get("server_url") or ""), str(data.get("created_at") or ""),
                   data.get("forced") is True, data.get("overwrite_server_edits") is True,
                   data.get("take_over") is True)




def read_plan_document(path: Any) -> dict[str, Any]:
    """The JSON object in a saved plan file, read by the bounded reader; any other file is an InvalidPlan."""
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
    if not isinstance(raw, dict):
        return [f"item {index} is not an object"]
    name = raw.get("name")
    label = f"item {index} ({name[:80]!r})" if isinstance(name, str) else f"item {index}"
    if raw.get("action") not in ACTIONS:
        return [f"{label} has an unknown action {str(raw.get('action'))[:40]!r}"]
    problems = []
    desired = raw.get("desired")
    for key in ("actual", "provenance", "base"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            problems.append(f"{label}: {key} is not an object")
    for key in ("source", "seen", "reason", "owner"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            problems.append(f"{label}: {key} is not a string")
    changes = raw.get("changes") or []
    if not isinstance(changes, list) or not all(isinstance(c, dict) and isinstance(c.get("field"), str)
                                                 for c in changes):
        problems.append(f"{label}: changes is not a list of field changes")
    for key in ("provenance", "base"):
        if isinstance(raw.get(key), dict) and not _provenance_ok(raw[key]):
            problems.append(f"{label}: {key} is not an idflow stamp")
    if raw["action"] in REMOTE_ONLY:  # never written: the name is whatever the server holds
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
    """One item as `asdict` would write it, field by field: `asdict` deep-copies every server copy
    (a third of a no-op upload of 1,000 definitions); the dicts are copied one level, which JSON needs."""
    return {"name": item.name, "action": item.action,
            "desired": None if item.desired is None else dict(item.desired),
            "actual": None if item.actual is None else dict(item.actual),
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in item.changes],
            "source": item.source, "seen": item.seen, "provenance": _stamp_json(item.provenance),
            "reason": item.reason, "owner": item.owner, "base": _stamp_json(item.base)}


def _stamp_json(stamp: Provenance | None) -> dict[str, Any] | None:
    return None if stamp is None else dict(vars(stamp))


def fingerprint(server_copy: dict[str, Any] | None) -> str | None:
    """Identity of a server copy as seen: any write to it (updateTime included) changes it."""
    if server_copy is None:
        return None
    canonical = json.dumps(server_copy, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:20]


def make_plan(desired: Iterable[dict[str, Any]], actual: Iterable[dict[str, Any]], *,
              sources: dict[str, str] | None = None, provenance: dict[str, Provenance] | None = None,
              force: bool = False, server_url: str = "", project: str | None = None,
              overwrite_server_edits: bool = False, take_over: bool = False) -> Plan:
    """Compare desired wire defs (from discovery) with the server's copies, three ways where a stamp allows.

    A remote-only definition this project stamped is an orphan candidate (`settle_orphans`
    decides whether it is provably unwanted); one another idflow project stamped, or one
    never stamped, is foreign and not ours to purge.
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
        stamp = parse_provenance(have.get("description"))
        owner = _other_project(stamp, project)
        base = stamp if stamp is not None and owner is None and stamp.project == project else None
        diff = taskdef.field_differences(want, have)
        changes = tuple(FieldChange(f, old, new) for f, (old, new) in diff.items())
        stamp_to_write = provenance.get(name)
        if owner and take_over and stamp_to_write is not None:  # the move is recorded in the new stamp
            stamp_to_write = replace(stamp_to_write, taken_from=owner)
        items.append(PlanItem(name, three_way(want, have, base) if changes else UNCHANGED, desired=want, actual=have,
                              changes=changes, source=sources.get(name), seen=SEEN_LATER,
                              provenance=stamp_to_write, owner=owner, base=base))
    for name in sorted(set(remote) - set(wanted)):
        have = remote[name]
        stamp = parse_provenance(have.get("description"))
        ours = stamp is not None and (project is None or stamp.project == project)
        edited = ours and edited_since_stamped(have, stamp)
        items.append(PlanItem(name, UNCERTAIN if edited else ORPHANED if ours else FOREIGN, actual=have,
                              seen=SEEN_LATER, provenance=stamp, owner=_other_project(stamp, project),
                              reason=EDITED_ORPHAN if edited else ""))
    return Plan(tuple(items), server_url=server_url, forced=force, overwrite_server_edits=overwrite_server_edits,
                take_over=take_over)


def three_way(desired: dict[str, Any], server_copy: dict[str, Any], base: Provenance | None) -> str:
    """UPDATE, EDITED or CONFLICT for a definition whose server copy differs from the code.

    The base is the hash idflow stamped when it last wrote the definition. Without one
    (never uploaded by this project, or an older stamp without a hash) the code wins: UPDATE.
    """
    if base is None or not base.hash:
        return UPDATE
    fields = base_fields(base, desired)
    server_moved = content_hash(server_copy, fields) != base.hash
    code_moved = content_hash(desired, fields) != base.hash
    if not server_moved:
        return UPDATE
    return CONFLICT if code_moved else EDITED


EDITED_ORPHAN = "edited on the server since this project uploaded it: someone may still want it (delete it by name)"


def edited_since_stamped(server_copy: dict[str, Any], stamp: Provenance) -> bool:
    """The server copy no longer hashes to what idflow wrote (an older stamp without a hash: unknown, so yes)."""
    if not stamp.hash:
        return True
    if stamp.fields is not None:
        return content_hash(server_copy, base_fields(stamp, server_copy)) != stamp.hash
    # An older stamp does not say which optional fields it covered: any subset of those present may be it.
    optional = [f for f in taskdef.owned_fields(server_copy) if f not in taskdef.ALWAYS_OWNED]
    subsets = (tuple(f for i, f in enumerate(optional) if mask >> i & 1) for mask in range(1 << len(optional)))
    return all(content_hash(server_copy, taskdef.ALWAYS_OWNED + subset) != stamp.hash for subset in subsets)


def _other_project(stamp: Provenance | None, project: str | None) -> str | None:
    if stamp is None or not stamp.project or project is None or stamp.project == project:
        return None
    return stamp.project


def settle_orphans(plan: Plan, verdicts: dict[str, str | None]) -> Plan:
    """The plan with each orphan whose verdict names a doubt turned UNCERTAIN, with that reason (pure)."""
    if not any(verdicts.values()):
        return plan
    items = tuple(replace(i, action=UNCERTAIN, reason=verdicts[i.name]) if i.action == ORPHANED
                  and verdicts.get(i.name) else i for i in plan.items)
    return replace(plan, items=items)
