"""`workflows import` and `workflows pull`: workflow definitions from the server back into the code (#25).

Steps: `load_local_workflows`, the server's workflows and this project's workflow ledger at the edges;
the plans are pure (`idflow.workflowdefs.pulling`); then the files are written (import: new files only;
pull: each JSON file edited in memory, then atomically), read back and compared with the server, and the
ledger records each version as it now is: the base of the next three-way comparison.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from idflow.discovery import display_path
from idflow.base.errors import RefusedError
from idflow.pulling.objects import NewFile, ObjectPull, Refusal, rewrite_texts, write_new_files, write_texts
from idflow.usecases.workflow_ledger import fetch_workflow_ledger, record_workflows
from idflow.usecases.session import Session
from idflow.usecases.steps import StepRunner, direct
from idflow.usecases.workflows import load_local_workflows
from idflow.workflowdefs.pulling import label, plan_workflow_import, plan_workflow_pull
from idflow.workflowdefs.sync import differences, version_of


def fetch_workflows(session: Session) -> list[dict[str, Any]]:
    return session.client.list_workflows()


def _check_matches(session: Session, labels: list[str], what: str, run: StepRunner) -> list[dict[str, Any]]:
    """The server copies of `labels`, after checking the local files now read as them."""
    local, _ = run(load_local_workflows, session.config)
    remote = {label(str(d.get("name")), version_of(d)): d for d in run(fetch_workflows, session)}
    files = {label(w.definition["name"], version_of(w.definition)): w.definition for w in local}
    differ = [l for l in labels if l not in files or l not in remote or differences(remote[l], files[l])]
    if differ:
        raise RefusedError(f"the {what} workflow(s) {', '.join(differ)} do not read back as the server's; the "
                           "files were written, the ledger was not",
                           hint="'idflow workflows list --sync -v' shows the difference")
    return [remote[l] for l in labels]


@dataclass
class WorkflowImportOutcome:
    """`workflows import`: the new workflow files written (or to write), those skipped, and any ledger problem."""
    files: list[NewFile] = field(default_factory=list)
    skipped: list[Refusal] = field(default_factory=list)
    dry_run: bool = False
    ledger_problem: str | None = None

    @property
    def ok(self) -> bool:
        """The files are written and recorded as this project's (a refusal raises before anything is)."""
        return self.ledger_problem is None

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "would_write" if self.dry_run else "written":
                [f.to_json() for f in self.files], "skipped": [s.to_json() for s in self.skipped],
                "ledger_problem": self.ledger_problem}


def workflows_import(session: Session, *, names: Iterable[str] = (), dry_run: bool = False,
                     run: StepRunner = direct) -> WorkflowImportOutcome:
    """`workflows import NAME...|--all-unmanaged` (all: no names)."""
    names = list(names)
    config = session.config
    local, issues = run(load_local_workflows, config)
    if issues and not names:  # a file that cannot be read may hold what the server has: never import over it
        raise RefusedError(f"{len(issues)} problem(s) in the workflow files; nothing was imported",
                           hint="'idflow workflows list --local' shows them")
    remote = run(fetch_workflows, session)
    files, skipped = plan_workflow_import(local, remote, Path(display_path(config.resolve(config.workflows_dir))), names)
    if names and skipped:
        raise RefusedError("cannot import " + "; ".join(f"{s.name}: {s.reason}" for s in skipped)
                           + "; nothing was written")
    outcome = WorkflowImportOutcome(files, skipped, dry_run)
    if dry_run or not files:
        return outcome
    write_new_files(files)
    copies = _check_matches(session, [n for f in files for n in f.names], "imported", run)
    outcome.ledger_problem = record_workflows(session, copies)
    return outcome


@dataclass
class WorkflowPullOutcome:
    """`workflows pull`: the server edits pulled into workflow files, those refused, and the files rewritten."""
    pulls: list[ObjectPull] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    dry_run: bool = False
    written: list[str] = field(default_factory=list)
    ledger_problem: str | None = None

    @property
    def ok(self) -> bool:
        """The files are written and recorded as this project's (a refusal raises before anything is)."""
        return self.ledger_problem is None

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "pulled": [p.to_json() for p in self.pulls],
                "refused": [r.to_json() for r in self.refused], "files": list(self.written),
                "ledger_problem": self.ledger_problem}


def workflows_pull(session: Session, *, names: Iterable[str] = (), dry_run: bool = False, partial: bool = False,
                   record: bool = True, run: StepRunner = direct) -> WorkflowPullOutcome:
    """`workflows pull NAME...|--all`: a conflict refuses the whole pull unless `partial`."""
    local, _ = run(load_local_workflows, session.config)
    remote = run(fetch_workflows, session)
    ledger = run(fetch_workflow_ledger, session)
    pulls, refused = plan_workflow_pull(local, remote, ledger, names)
    if refused and not partial:
        raise RefusedError(f"{len(refused)} workflow(s) cannot be pulled: "
                           + "; ".join(f"{r.name}: {r.reason}" for r in refused[:5]) + "; nothing was pulled",
                           hint="'idflow workflows list --sync -v' shows both sides")
    outcome = WorkflowPullOutcome(pulls, refused, dry_run)
    if dry_run or not pulls:
        return outcome
    texts = rewrite_texts(pulls)
    write_texts(texts)
    outcome.written = sorted(texts)
    copies = _check_matches(session, [p.label for p in pulls], "pulled", run)
    if record:
        outcome.ledger_problem = record_workflows(session, copies, ledger)
    return outcome
