"""Rendering for `idflow tasks adopt`: what would be re-stamped, what was, and what cannot be."""
from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape

from idflow.cli.render.writes import render_problems


def render_adopt_plan(console: Console, plan: Any) -> None:
    console.print(f"adopt from project [bold]{escape(plan.from_project or '(no project)')}[/] "
                  f"to [bold]{escape(plan.to_project)}[/]: {len(plan.names)} definition(s)")
    for name in plan.names:
        console.print(f"  re-stamp  {escape(name)}")
    for name, reason in plan.skipped:
        console.print(f"  [yellow]skip[/]      {escape(name)}: {escape(reason)}")


def render_adopt_outcome(console: Console, outcome: Any) -> None:
    if outcome.result is None:
        render_adopt_plan(console, outcome.plan)
        if outcome.dry_run:
            console.print("[dim]dry run: nothing was changed (rerun with -y to adopt)[/]")
        return
    result = outcome.result
    console.print(f"adopted {len(result.adopted)} definition(s) into project {escape(outcome.plan.to_project)}")
    render_problems(console, result.to_json(), backup_note="their previous copies backed up to")
