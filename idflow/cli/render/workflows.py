"""Workflow definitions, uploads and runs."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from idflow.cli.render.text import safe
from idflow.cli.render.workflow_manage import STATE_STYLE, STATE_WORDS
from idflow.cli.render.writes import render_problems
from idflow.workflowdefs.sync import CREATE, REMOTE_ONLY, UNCHANGED, UPDATE

if TYPE_CHECKING:  # rich is loaded when it prints: output that is not a terminal may never need it
    from rich.console import Console


def render_issues(console, issues, severity: str = "error") -> None:
    colour = "red" if severity == "error" else "yellow"
    for issue in issues:
        console.print(f"[{colour}]{severity}[/] {safe(str(issue))}")


def render_changes(console, item) -> None:
    for change in item.changes:
        old = "(unset)" if change.old is None else json.dumps(change.old)
        new = "(unset)" if change.new is None else json.dumps(change.new)
        console.print(f"    {safe(change.path)}: [red]{safe(old)}[/] -> [green]{safe(new)}[/]")


def render_sync(console, plan, states, verbose: bool) -> None:
    """Each version with its three-way state (server-only ones with -v, but always the count of each kind);
    `states` covers every item of `plan` (idflow.usecases.workflows_diff.sync_view)."""
    state_of = {i.label: i.state for i in states.items}
    for item in plan.items:
        if item.action == REMOTE_ONLY and not verbose:
            continue
        state = state_of[item.label]
        where = f" [dim]{safe(item.path)}[/]" if item.path else ""
        console.print(f"{safe(item.label)}: [{STATE_STYLE[state.state]}]{STATE_WORDS[state.state]}[/]{where}")
        if verbose and state.reason and state.state not in ("in_sync", "local_only"):
            console.print(f"    [dim]{safe(state.reason)}[/]")
        if verbose:
            render_changes(console, item)
        for ref in item.unknown_tasks:
            console.print(f"    [yellow]warning[/] unknown task {safe(ref.task)} at {safe(ref.where)}")
    counts = states.counts()
    shown = [f"[{STATE_STYLE[s]}]{STATE_WORDS[s]} {counts[s]}[/]" for s in STATE_WORDS if counts.get(s)]
    console.print(" · ".join(shown) if shown else "[dim]no workflows, here or on the server[/]")
    render_issues(console, plan.issues)


def render_upload(console, result, verbose: bool) -> None:
    verb = {CREATE: "would create" if result.dry_run else "created",
            UPDATE: "would update" if result.dry_run else "updated"}
    for item in result.plan.items if result.dry_run else result.written:
        if item.action in verb:
            colour = "green" if item.action == CREATE else "yellow"
            console.print(f"[{colour}]{verb[item.action]}[/] {safe(item.label)} [dim]{safe(item.path or '')}[/]")
            if item.action == UPDATE and (verbose or result.dry_run):
                render_changes(console, item)
    unchanged = len(result.plan.of(UNCHANGED))
    if unchanged:
        console.print(f"[dim]unchanged {unchanged}[/]")
    render_problems(console, result.to_json())
    if result.dry_run:
        console.print("[dim]dry run: nothing was written[/]")
    elif not result.plan.to_write:
        console.print("[green]In sync: nothing to upload.[/]")


def render_outcome(console, outcome, timeout: float) -> None:
    doc = outcome.to_json()
    colour = "green" if outcome.ok else "red"
    if outcome.timed_out:
        console.print(f"[red]timed out after {timeout:g} s[/]: the workflow is still {safe(outcome.status)} "
                      f"(id {safe(outcome.workflow_id)})")
    else:
        console.print(f"[{colour}]{safe(outcome.status)}[/] [dim]{safe(outcome.workflow_id)}[/]")
    if doc["reasonForIncompletion"]:
        console.print(f"[red]reason:[/] {safe(doc['reasonForIncompletion'])}")
    for task in doc["failedTasks"]:
        label = f"{task['ref']} ({task['task']}) {task['status']}"
        console.print(f"[red]task {safe(label)}:[/] {safe(task['reasonForIncompletion'] or 'no reason given')}")
    console.print_json(json.dumps(doc["output"]))


def render_local(console: Console, local: Any) -> None:
    doc = local.to_json()
    for row in doc["workflows"]:
        console.print(f"[bold]{safe(row['name'])}[/] v{safe(row['version'])} [dim]{safe(row['path'])}[/]  "
                      f"tasks: {safe(', '.join(row['tasks']) or '-')}")
    console.print(f"{len(doc['workflows'])} local workflow(s)")
    render_issues(console, local.issues)
    render_issues(console, local.warnings, "warning")


def render_remote(console: Console, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        others = f" [dim](versions {safe(', '.join(map(str, row['versions'])))})[/]" if len(row["versions"]) > 1 else ""
        console.print(f"[bold]{safe(row['name'])}[/] v{safe(row['latest'])}{others}")
    console.print(f"{len(rows)} workflow(s) on the server")


def render_not_uploaded(console: Console, plan: Any) -> None:
    for item in plan.items:
        if item.not_uploaded:
            tasks = ", ".join(item.not_uploaded)
            console.print(f"[yellow]warning:[/] {safe(item.label)} uses task(s) {safe(tasks)} that are defined "
                          "locally but not on the server yet: run 'idflow tasks upload "
                          f"{safe(' '.join(item.not_uploaded))}' before running it")


def render_task_status(console: Console, task: dict[str, Any]) -> None:
    colour = {"COMPLETED": "green", "IN_PROGRESS": "cyan", "SCHEDULED": "dim"}.get(task["status"], "red")
    reason = f" [dim]({safe(task['reasonForIncompletion'])})[/]" if task.get("reasonForIncompletion") else ""
    console.print(f"  {safe(str(task['ref']))} [dim]{safe(str(task['task']))}[/]: "
                  f"[{colour}]{safe(str(task['status']))}[/]{reason}")


def render_follow_hint(console: Console, workflow_id: str) -> None:
    console.print(f"[dim]follow it: idflow workflow status {safe(workflow_id)}[/]")


def render_status(console: Console, outcome: Any) -> None:
    doc = outcome.to_json()
    colour = {"COMPLETED": "green", "RUNNING": "cyan", "PAUSED": "yellow"}.get(outcome.status, "red")
    console.print(f"[bold]{safe(str(doc['name']))}[/] v{safe(doc['version'])} [{colour}]{safe(outcome.status)}[/] "
                  f"[dim]{safe(outcome.workflow_id)}[/]")
    if doc["reasonForIncompletion"]:
        console.print(f"[red]reason:[/] {safe(doc['reasonForIncompletion'])}")
    for task in doc["tasks"]:
        render_task_status(console, task)
    if not doc["tasks"]:
        console.print("  [dim]no tasks scheduled yet[/]")
    console.print_json(json.dumps(doc["output"]))


def render_action(console: Console, action: Any) -> None:
    done = {"terminate": "terminated", "retry": "retried"}[action.action]
    label = f"{action.name} run {action.workflow_id}"
    if not action.changed:
        console.print(f"[dim]{safe(label)} was already {safe(action.before)}; nothing changed[/]")
        return
    console.print(f"{done} {safe(label)}: {safe(action.before)} -> {safe(action.after)}")


def render_new(console: Console, created: dict[str, Any]) -> None:
    console.print(f"created workflow [bold]{safe(created['workflow'])}[/]: {safe(created['created'])}")
    console.print(f"[dim]next: edit it, then `idflow workflows upload {safe(created['workflow'])}` and "
                  f"`idflow workflow run {safe(created['workflow'])} --wait`[/]")
