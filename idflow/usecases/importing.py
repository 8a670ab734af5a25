"""`tasks import`: definitions that exist only on the server become task files (part of issue 25).

Like `terraform import -generate-config-out`: it writes new files only, never over an existing one,
and marks them as generated. Steps: `discover` and `fetch_taskdefs` at the edges; `plan_import`
(pure) picks the definitions and their files; `write_imported` writes them; discovery then reads
them back and must find the server's owned fields exactly; last, an upload with --force stamps the
server copies (backed up first, owned fields unchanged), so the three-way state and purge work for
them from then on. A definition another idflow project stamped is imported only with take_over.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import RefusedError
from idflow.taskdefs.importing import function_name, render_task_file
from idflow.taskdefs.plan import FOREIGN, Plan
from idflow.model.validation import name_problem
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.usecases.tasks import UploadOutcome, discover, fetch_taskdefs, plan_definitions, upload


@dataclass(frozen=True)
class ImportItem:
    """One server-only task definition `tasks import` turns into a new task file: its name, path and text."""
    name: str
    path: str            # the task file to write
    content: str

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "path": self.path}


@dataclass
class ImportOutcome:
    """`tasks import`: the task files written (or to write), the definitions skipped, and the stamping upload."""
    items: list[ImportItem] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)    # name, reason
    dry_run: bool = False
    stamped: UploadOutcome | None = None

    @property
    def ok(self) -> bool:
        return self.stamped is None or self.stamped.ok

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "would_write" if self.dry_run else "written":
                [i.to_json() for i in self.items], "skipped": self.skipped,
                "stamped": self.stamped.to_json() if self.stamped is not None else None}


def plan_import(plan: Plan, tasks_dir: Path, names: Iterable[str] = (), *, take_over: bool = False) -> ImportOutcome:
    """Which server-only definitions become which files (pure but for checking what exists)."""
    wanted = list(dict.fromkeys(names))
    by_name = {i.name: i for i in plan.items}
    outcome = ImportOutcome()
    candidates = wanted or [i.name for i in plan.of(FOREIGN)]
    taken: set[str] = set()
    for name in candidates:
        item = by_name.get(name)
        if item is None or item.actual is None:
            outcome.skipped.append({"name": name, "reason": "not on the server"})
        elif item.desired is not None:
            outcome.skipped.append({"name": name, "reason": f"already a task file: {item.source}"})
        elif item.action != FOREIGN:
            outcome.skipped.append({"name": name, "reason": "already this project's (stamped): nothing to import"})
        elif name_problem(name):
            outcome.skipped.append({"name": name, "reason": f"idflow cannot manage this name: {name_problem(name)}"})
        elif item.owner and not take_over:
            outcome.skipped.append({"name": name, "reason": f"uploaded by idflow project {item.owner}: "
                                                            "import it with --take-over"})
        else:
            folder = _free_folder(tasks_dir, function_name(name), taken)
            taken.add(folder)
            outcome.items.append(ImportItem(name, str(tasks_dir / folder / f"{folder}.py"),
                                            render_task_file(item.actual)))
    if wanted and outcome.skipped:
        raise RefusedError("cannot import " + "; ".join(f"{s['name']}: {s['reason']}" for s in outcome.skipped)
                           + "; nothing was written")
    return outcome


def _free_folder(tasks_dir: Path, stem: str, taken: set[str]) -> str:
    folder, index = stem, 2
    while folder in taken or (tasks_dir / folder).exists() or (tasks_dir / folder).is_symlink():
        folder, index = f"{stem}_{index}", index + 1
    return folder


def write_imported(items: list[ImportItem]) -> None:
    """Each file in a new folder; an existing file is never overwritten (the folder must be new)."""
    for item in items:
        path = Path(item.path)
        path.parent.mkdir(parents=True, exist_ok=False)
        with open(path, "x", encoding="utf-8") as out:
            out.write(item.content)


def import_definitions(session: Session, *, names: Iterable[str] = (), dry_run: bool = False,
                       take_over: bool = False, run: StepRunner = direct) -> ImportOutcome:
    """`tasks import NAME...|--all-unmanaged` (all: no names)."""
    config = session.config
    discovery = run(discover, config)
    taskdefs = run(fetch_taskdefs, session)
    plan = plan_definitions(config, discovery.tasks, taskdefs)
    outcome = plan_import(plan, config.resolve(config.tasks_dir), names, take_over=take_over)
    outcome.dry_run = dry_run
    if dry_run or not outcome.items:
        return outcome
    run(write_imported, outcome.items)
    imported = [i.name for i in outcome.items]
    after = plan_definitions(config, [t for t in run(discover, config).tasks if t.name in imported], taskdefs)
    differ = [i.name for i in after.items if i.name in imported and i.changes]
    if differ:
        raise RefusedError(f"the imported file(s) of {', '.join(differ)} do not read back as the server's "
                           "definition; the files were written, nothing was stamped",
                           hint="'idflow tasks diff' shows the difference: please report it")
    outcome.stamped = upload(session, names=imported, force=True, take_over=take_over, run=run)
    return outcome
