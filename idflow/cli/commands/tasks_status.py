"""`idflow tasks status [NAME...]`: is every task served, and how is it doing?"""
from __future__ import annotations

from typing import List, Optional
import time

import typer

from idflow.cli.options import JSON_OPTION, PREFECT_OPTION
from idflow.cli.state import state
from idflow.base.errors import EXIT_DRIFT, EXIT_OK, ConductorError, Interrupted
from idflow import usecases
from idflow.monitoring.assemble import parse_duration, parse_rate
from idflow.monitoring.report import Thresholds, StatusReport

KINDS = ("unserved", "failing", "undefined")


def _thresholds(since: str, unserved_after: str, failing_above: str):
    try:
        return Thresholds(parse_duration(since), parse_duration(unserved_after), parse_rate(failing_above))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _kinds(fail_on: str) -> list[str]:
    kinds = [k.strip() for k in fail_on.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise typer.BadParameter(f"--fail-on takes {', '.join(KINDS)} (comma-separated), not {', '.join(unknown)}")
    return kinds


def status(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Only these task types."),
           since: str = typer.Option("1h", "--since", help="Window for completed, failed and timings (30m, 1h, 2d)."),
           unserved_after: str = typer.Option(
               "60s", "--unserved-after",
               help="A task with queued work and no worker poll for this long is unserved."),
           failing_above: str = typer.Option("10%", "--failing-above",
                                             help="A failure rate in the window over this is failing."),
           fail_on: str = typer.Option("", "--fail-on", help="Exit 4 when any task is one of these: "
                                                             "unserved, failing, undefined (comma-separated)."),
           watch: bool = typer.Option(False, "--watch", "-w", help="Refresh in place until Ctrl-C."),
           interval: str = typer.Option("2s", "--interval", help="Refresh interval with --watch."),
           prefect: bool = PREFECT_OPTION, json_: bool = JSON_OPTION) -> None:
    """Queue depth, polling workers, executions and timings per task type; what needs attention.

    Exit 0; with --fail-on, exit 4 when a task is in one of the named states (for CI and alerting)."""
    cli = state(ctx, json_)
    thresholds = _thresholds(since, unserved_after, failing_above)
    kinds = _kinds(fail_on)
    if watch:
        if cli.json or prefect:
            raise typer.BadParameter("--watch redraws a table: it cannot be combined with --json or --prefect")
        _watch(cli, names, thresholds, _interval(interval))
        return

    report, doc = cli.run("status", usecases.task_status, StatusReport, prefect=prefect,
                          flow_params={"task_names": names or None, "since": since,
                                       "unserved_after": unserved_after, "failing_above": failing_above},
                          names=names, thresholds=thresholds)

    def render(console) -> None:
        from idflow.cli.render.status import render_status

        render_status(console, report)

    cli.emit(doc, render)
    if kinds and report.needs_attention(kinds):
        raise typer.Exit(EXIT_DRIFT)


def _interval(text: str) -> float:
    try:
        return float(parse_duration(text))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _watch(cli, names, thresholds, every: float, rounds: int | None = None) -> None:
    """Redraw the table every `every` seconds (rich Live), until Ctrl-C (exit 0) or `rounds` redraws."""
    from rich.live import Live

    from idflow.cli.render.status import status_view

    session = cli.session()
    console = cli.rich_out
    done = 0
    try:
        with Live(console=console, auto_refresh=False, transient=False) as live:
            while rounds is None or done < rounds:
                stamp = f"refreshed {time.strftime('%H:%M:%S')} every {every:g}s"
                try:
                    report = usecases.task_status(session, names=names, thresholds=thresholds)
                    live.update(status_view(console, report, stamp), refresh=True)
                except ConductorError as exc:  # the server went away: say so, and keep trying
                    from rich.text import Text

                    live.update(Text(f"{exc.message}\n{stamp}; Ctrl-C stops"), refresh=True)
                done += 1
                if rounds is None or done < rounds:
                    time.sleep(every)
    except (KeyboardInterrupt, Interrupted):
        raise typer.Exit(EXIT_OK) from None
