"""`tasks pull`: edits made on the server come back into the task files (first part of issue 25).

Steps: `discover` and `fetch_taskdefs` at the edges; `plan_pull` (pure) picks the definitions
edited on the server since idflow uploaded them (server moved, code did not) and refuses a
conflict; `write_pulled` rewrites each decorator's keywords in place (idflow.taskdefs.rewrite,
every other byte kept) and checks that discovery now reads the server's values; then the
definitions are uploaded with --force, which writes nothing new but stamps the pulled state as
the base, so the next upload is a no-op and a later server edit is seen again.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import RefusedError
from idflow.model.fields import FIELDS_BY_WIRE
from idflow.taskdefs.plan import CONFLICT, EDITED, Plan
from idflow.taskdefs.rewrite import KeywordEdit, rewrite_keywords
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.usecases.tasks import UploadOutcome, discover, fetch_taskdefs, plan_definitions, select_tasks, upload


@dataclass(frozen=True)
class FilePull:
    """One task file `tasks pull` rewrites: the definition, its file and the keyword edits."""
    name: str
    path: str
    edits: tuple[KeywordEdit, ...]

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path, "keywords": {e.keyword: e.value for e in self.edits}}


@dataclass
class PullOutcome:
    """`tasks pull`: the task files rewritten, the stamping upload, and the conflicts left alone."""
    pulls: list[FilePull] = field(default_factory=list)
    dry_run: bool = False
    stamped: UploadOutcome | None = None        # the --force upload that moved the base
    conflicts: list[str] = field(default_factory=list)   # a partial pull's: changed on both sides, not pulled

    @property
    def ok(self) -> bool:
        return self.stamped is None or self.stamped.ok

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "pulled": [p.to_json() for p in self.pulls],
                "stamped": self.stamped.to_json() if self.stamped is not None else None,
                "conflicts": list(self.conflicts)}


def plan_pull(plan: Plan, tasks: dict[str, Any], names: Iterable[str] = (), *,
              partial: bool = False) -> list[FilePull]:
    """Which task files take which keyword values from the server (pure). Refuses a conflict, unless
    `partial`: then the conflicts are left out."""
    wanted = set(names)
    items = [i for i in plan.items if not wanted or i.name in wanted]
    conflicts = [i.name for i in items if i.action == CONFLICT]
    if conflicts and not partial:
        raise RefusedError(f"{len(conflicts)} definition(s) changed both on the server and in the code: "
                           f"{', '.join(conflicts[:5])}; nothing was pulled",
                           hint="'idflow tasks diff' shows both sides; resolve them in the task file by hand")
    pulls = []
    for item in items:
        if item.action != EDITED:
            continue
        edits = tuple(KeywordEdit(FIELDS_BY_WIRE[c.field].keyword, c.old) for c in item.changes
                      if c.field in FIELDS_BY_WIRE)
        pulls.append(FilePull(item.name, tasks[item.name].path, edits))
    return pulls


def write_pulled(pulls: list[FilePull]) -> None:
    """Rewrite every file first in memory (any refusal writes nothing), then each atomically."""
    by_path: dict[str, str] = {}
    for pull in pulls:
        source = by_path.get(pull.path) or Path(pull.path).read_text(encoding="utf-8")
        by_path[pull.path] = rewrite_keywords(source, pull.name, list(pull.edits))
    for path, text in by_path.items():
        folder = os.path.dirname(os.path.abspath(path))
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=".idflow-pull-")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)


def pull(session: Session, *, names: Iterable[str] | None = None, dry_run: bool = False, partial: bool = False,
         stamp: bool = True, run: StepRunner = direct) -> PullOutcome:
    """`tasks pull NAME...|--all`: server edits into the task files, then the base moves to them.

    The sync flow's pull policy passes `partial` (pull what it can, name the conflicts) and not `stamp`:
    its files go to a branch for review, so the deployed code has not moved and neither may the base."""
    names = list(names or [])
    discovery = run(discover, session.config)
    tasks = select_tasks(discovery, names)
    taskdefs = run(fetch_taskdefs, session)
    plan = plan_definitions(session.config, tasks, taskdefs)
    pulls = plan_pull(plan, {t.name: t for t in tasks}, names, partial=partial)
    conflicts = [i.name for i in plan.of(CONFLICT) if not names or i.name in names]
    if dry_run or not pulls:
        return PullOutcome(pulls, dry_run=dry_run, conflicts=conflicts)
    run(write_pulled, pulls)
    after = plan_definitions(session.config, select_tasks(run(discover, session.config), [p.name for p in pulls]),
                             taskdefs)
    unresolved = [i.name for i in after.items if i.name in {p.name for p in pulls} and i.changes]
    if unresolved:
        raise RefusedError(f"the task file(s) of {', '.join(unresolved)} still differ from the server after the "
                           "pull (a default or the docstring decides a field); the files were rewritten, nothing "
                           "was uploaded", hint="'idflow tasks diff' shows what is left")
    if not stamp:
        return PullOutcome(pulls, conflicts=conflicts)
    return PullOutcome(pulls, stamped=upload(session, names=[p.name for p in pulls], force=True, run=run),
                       conflicts=conflicts)
