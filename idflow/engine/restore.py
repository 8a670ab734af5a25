"""Restore any kind of definition from a backup: a plan per object (pure), then the write engine.

A backup holds server copies exactly as they were read. A restore puts each back as it was:
one the server holds differently is overwritten (its current copy backed up first), a missing
one is created, an identical one is left alone.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import IdflowError, InputFileError, UnaddressableName
from idflow.base.interrupt import Interruption
from idflow.base.progress import Progress
from idflow.conductor.paths import addressable
from idflow.engine.backups import read_backup
from idflow.engine.kind import Definition, Kind
from idflow.engine.write import Ref, Write, WriteResult, execute, ref_key

CREATE, OVERWRITE, SAME = "create", "overwrite", "same"
RESTORED = ("restored",)
MAX_PROBLEMS_SHOWN = 10


@dataclass(frozen=True)
class RestoreItem:
    """One backed-up definition in a restore: created, overwritten or left alone, with the server copy it replaces."""
    ref: Ref
    action: str                                  # create | overwrite | same
    body: Definition                             # the backed-up copy, as it can be written
    current: Definition | None = None            # the server copy it would replace

    @property
    def name(self) -> str:
        return self.ref if isinstance(self.ref, str) else self.ref["name"]


@dataclass
class RestorePlan:
    """What a restore from one backup would do, object by object (nothing written yet)."""
    kind: str
    source: str
    items: list[RestoreItem]

    def of(self, action: str) -> list[RestoreItem]:
        return [i for i in self.items if i.action == action]

    @property
    def to_write(self) -> list[RestoreItem]:
        return [i for i in self.items if i.action != SAME]

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "restore": [i.ref for i in self.to_write],
                "overwrite": [i.ref for i in self.of(OVERWRITE)], "create": [i.ref for i in self.of(CREATE)],
                "unchanged": [i.ref for i in self.of(SAME)]}


@dataclass
class RestoreOutcome:
    """A restore: its plan and what the write engine did with it (nothing on a dry run)."""
    plan: RestorePlan
    dry_run: bool = False
    result: WriteResult = field(default_factory=lambda: WriteResult.empty(RESTORED))

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_json(self) -> dict[str, Any]:
        return {**self.plan.to_json(), "dry_run": self.dry_run, **self.result.to_json()}


def _entries(kind: Kind, path: Path) -> list[Definition]:
    document = read_backup(path, kind.name)
    found: dict[str, Definition] = {}
    problems: list[str] = []
    for index, entry in enumerate(document[kind.name]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
            raise IdflowError(f"backup {path}: entry {index} is not a {kind.noun} (no name)")
        body = kind.restorable(entry)
        problems += [f"{entry['name'][:80]!r}: {p}" for p in kind.entry_problems(body)]
        if problems:
            continue
        key = ref_key(kind.ref(body))
        if key in found and kind.differs(found[key], body):
            raise IdflowError(f"backup {path} holds {key} twice, differently: restore one by hand")
        found[key] = body
    if problems:
        more = f" (and {len(problems) - MAX_PROBLEMS_SHOWN} more)" if len(problems) > MAX_PROBLEMS_SHOWN else ""
        raise InputFileError(path, f"{len(problems)} problem(s), so nothing was written: "
                                   + "; ".join(problems[:MAX_PROBLEMS_SHOWN]) + more, what="backup",
                             hint="restore only the other definitions (name them), or fix the backup by hand")
    return list(found.values())


def plan_restore(kind: Kind, path: Path, names: Iterable[str] | None, remote: Iterable[Definition]) -> RestorePlan:
    """Each backed-up object (all, or those named) against the server's copy."""
    wanted = list(dict.fromkeys(names or []))
    chosen = [d for d in _entries(kind, path) if not wanted or d["name"] in wanted]
    missing = [n for n in wanted if n not in {d["name"] for d in chosen}]
    if missing:
        raise IdflowError(f"not in backup {path}: {', '.join(missing)}")
    server = {ref_key(kind.ref(d)): d for d in remote if isinstance(d, dict)}
    items = []
    for body in sorted(chosen, key=lambda d: ref_key(kind.ref(d))):
        current = server.get(ref_key(kind.ref(body)))
        action = CREATE if current is None else OVERWRITE if kind.differs(current, body) else SAME
        items.append(RestoreItem(kind.ref(body), action, body, current))
    return RestorePlan(kind.name, str(path), items)


def execute_restore(client: Any, kind: Kind, plan: RestorePlan, *, state_dir: Path, server_url: str = "",
                    batch_size: int = 500, progress: Progress | None = None,
                    interruption: Interruption | None = None) -> RestoreOutcome:
    """Back up what it overwrites, write in batches (a signal stops between them), read back, account."""
    unaddressable = [(i.name, reason) for i in plan.to_write if (reason := addressable(i.name))]
    if unaddressable:  # it could be written, but never read back or deleted exactly
        raise UnaddressableName(unaddressable, what=kind.noun)

    def restored(write: Write, held: Definition | None) -> list[str]:
        if held is None:
            return ["missing on the server after the write"]
        return ["the server holds something else after the write"] if kind.differs(held, write.body or {}) else []

    writes = [Write(i.ref, "restored", i.body, replaces=i.current) for i in plan.to_write]
    target = replace(kind.upserts(batch_size), check=restored)
    return RestoreOutcome(plan, result=execute(client, writes, target, state_dir=state_dir,
                                               reason=f"{kind.name}-restore" if kind.name != "taskdefs" else "restore",
                                               actions=RESTORED, server_url=server_url, progress=progress,
                                               interruption=interruption))
