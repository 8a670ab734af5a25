"""Workflow files as Git holds them at any revision: the sources of `workflows history` and `rollback`.

Read from Git objects, never from the working tree (a rollback leaves the checkout untouched). History replays
`git log --raw` over the workflows dir (one git process) and parses a file again only when its blob changed.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from idflow.provenance.history import Commit, GitTree, _read_blobs, file_changes, files_at, open_tree
from idflow.workflowdefs.files import FileIssue, LocalWorkflow, parse_workflow_text
from idflow.workflowdefs.pulling import is_workflow_path
from idflow.workflowdefs.sync import differences, version_of

__all__ = ["open_workflows_tree", "workflows_at", "workflow_history", "VersionChange", "HistoryStep"]


def open_workflows_tree(workflows_dir: Path) -> GitTree:
    """The repository holding the workflows dir (its `tasks_rel` is the workflows dir's path in it)."""
    return open_tree(workflows_dir)


def _parse(files: list[tuple[str, bytes]]) -> tuple[list[LocalWorkflow], list[FileIssue]]:
    workflows: list[LocalWorkflow] = []
    issues: list[FileIssue] = []
    seen: dict[tuple[str, int], str] = {}
    for path, content in sorted(files):
        if not is_workflow_path(path):
            continue
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            issues.append(FileIssue(path, 0, "not UTF-8 text"))
            continue
        found, problems = parse_workflow_text(text, path)
        issues.extend(problems)
        for workflow in found:
            key = (workflow.definition["name"], version_of(workflow.definition))
            if key in seen:
                issues.append(FileIssue(path, 0, f"workflow {key[0]!r} v{key[1]} is also defined in {seen[key]}"))
            else:
                seen[key] = path
                workflows.append(workflow)
    return workflows, issues


def workflows_at(tree: GitTree, rev: str) -> tuple[str, list[LocalWorkflow], list[FileIssue]]:
    """(full sha, the workflow versions, the problems) of the workflow files at `rev`."""
    sha = tree.resolve(rev)
    workflows, issues = _parse(files_at(tree, sha))
    return sha, workflows, issues


@dataclass(frozen=True)
class VersionChange:
    """One workflow version a commit added, changed or removed, with its file and definition there."""
    version: int
    change: str                          # added | changed | removed
    path: str | None
    definition: dict[str, Any] | None    # None: removed


@dataclass(frozen=True)
class HistoryStep:
    """One commit in the workflow files' history, and the versions it added, changed or removed."""
    commit: Commit
    versions: tuple[VersionChange, ...]


def workflow_history(tree: GitTree, name: str) -> list[HistoryStep]:
    """Commits (newest first) where some version of workflow `name` was added, changed or removed."""
    state: dict[str, str] = {}        # path -> blob
    parsed: dict[str, list[LocalWorkflow]] = {}
    before: dict[int, tuple[str, dict[str, Any]]] = {}
    steps: list[HistoryStep] = []
    for commit, changes in file_changes(tree, tree.tasks_rel or "."):
        changed = False
        for path, blob in changes:
            if is_workflow_path(path):
                changed = True
                if blob:
                    state[path] = blob
                else:
                    state.pop(path, None)
        if not changed:
            continue
        wanted = [b for b in state.values() if b not in parsed]
        contents = _read_blobs(tree, wanted)
        for blob in wanted:
            parsed[blob] = _parse([(p, contents[blob]) for p, b in state.items() if b == blob][:1])[0]
        now: dict[int, tuple[str, dict[str, Any]]] = {}
        for path, blob in sorted(state.items()):
            for workflow in parsed[blob]:
                if workflow.definition["name"] == name:
                    now.setdefault(version_of(workflow.definition), (path, workflow.definition))
        versions = []
        for version in sorted(set(before) | set(now)):
            if version not in now:
                versions.append(VersionChange(version, "removed", before[version][0], None))
            elif version not in before:
                versions.append(VersionChange(version, "added", now[version][0], now[version][1]))
            elif differences(before[version][1], now[version][1]):
                versions.append(VersionChange(version, "changed", now[version][0], now[version][1]))
        if versions:
            steps.append(HistoryStep(commit, tuple(versions)))
        before = now
    return list(reversed(steps))
