"""`idflow worker start`: run the task workers until SIGINT/SIGTERM."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any, Callable, List, Optional

import typer

from idflow.cli.options import JSON_OPTION, VERBOSE_OPTION
from idflow.cli.state import state
from idflow.base.errors import ConductorError, EXIT_ERROR, WorkerStartError


def start(ctx: typer.Context, names: Optional[List[str]] = typer.Argument(None, help="Tasks to run."),
          all_: bool = typer.Option(False, "--all", help="Run every local task."),
          threads: Optional[int] = typer.Option(None, "--threads", min=1, help="Tasks run at once, per task type."),
          poll_interval: Optional[int] = typer.Option(None, "--poll-interval", min=1, help="Poll interval in ms."),
          domain: Optional[str] = typer.Option(None, "--domain", help="Task domain to poll."),
          skip_requirements_check: bool = typer.Option(False, "--skip-requirements-check",
                                                       help="Start even if a task's requirements.txt is not met."),
          grace: float = typer.Option(8.0, "--grace", min=0.0, max=9.0,
                                      help="On stop, seconds tasks in flight get to finish before they are "
                                           "handed back to the queue (the whole stop stays under 10 s)."),
          verbose: bool = VERBOSE_OPTION, json_: bool = JSON_OPTION) -> None:
    """Import the task modules and poll for their tasks; never registers definitions (upload does).

    The flags replace the decorators' values; the SDK's conductor.worker.<task>.<option> env vars still win.
    """
    from idflow.usecases import discover
    from idflow.worker.loading import check_requirements, import_task_modules, select_tasks
    from idflow.worker.pool import WorkerOverrides, WorkerPool, registered_workers, sdk_configuration

    cli = state(ctx, json_)
    verbose = verbose or cli.verbose
    if bool(names) == all_:
        raise typer.BadParameter("name the tasks to run, or pass --all (not both)")
    config = cli.config()
    log = _setup_logging(verbose)
    tasks = select_tasks(discover(config), names or [], all_tasks=all_)

    problems = check_requirements(tasks)
    for problem in problems:
        if not problem.blocking or skip_requirements_check:
            log.warning("requirement %s", problem)
    missing = [p for p in problems if p.blocking]
    if missing and not skip_requirements_check:
        files = sorted({p.path for p in missing})
        raise WorkerStartError(f"{len(missing)} task requirement(s) not met; no worker was started",
                               [str(p) for p in missing],
                               hint="install them (" + "; ".join(f"pip install -r {f}" for f in files)
                                    + "), or pass --skip-requirements-check")

    failures = import_task_modules(tasks, config.base_dir)
    if failures:
        raise WorkerStartError(f"cannot import {len(failures)} task module(s); no worker was started",
                               [str(f) for f in failures])
    overrides = WorkerOverrides(threads=threads, poll_interval_ms=poll_interval, domain=domain)
    selected = list(dict.fromkeys(t.name for t in tasks))
    workers = registered_workers(selected, overrides)
    unregistered = sorted(set(selected) - {w.get_task_definition_name() for w in workers})
    if unregistered:
        where = {t.name: t.path for t in tasks}
        raise WorkerStartError("imported, but no @worker_task registered for: " + ", ".join(unregistered),
                               [f"{n}: {where[n]}" for n in unregistered],
                               hint="decorate the function with `from idflow import worker_task` "
                                    "(or the SDK's worker_task) at module level")
    _check_server(cli, log)

    pool = WorkerPool(workers, sdk_configuration(config))
    stop, force = threading.Event(), threading.Event()
    restore = _install_stop_signals(stop, force)
    try:
        pool.start()
        paths = {t.name: t.path for t in tasks}
        for info in pool.describe():
            log.info("worker started: %s (%s; threads %s, poll %s ms, domain %s)", info["task"], paths[info["task"]],
                     info["threads"], info["poll_interval_ms"], info["domain"] or "-")
        log.info("polling %s for %d task type(s); SIGINT or SIGTERM stops", config.safe_api_url, len(workers))
        while not stop.wait(0.5):
            pass
        log.info("stopping: no new polls; %d task(s) in flight get up to %g s to finish", pool.held, grace)
        report = pool.stop(grace, force)
    finally:
        restore()
    if report.released:
        log.warning("handed %d unfinished task(s) back to the queue: %s", len(report.released),
                    ", ".join(report.released))
    if report.release_failed:
        log.error("could not hand back %d task(s); they stay IN_PROGRESS until their response timeout: %s",
                  len(report.release_failed), ", ".join(report.release_failed))
    log.info("stopped; %d task result(s) reported", pool.reported)
    cli.emit({"server": config.safe_api_url, "workers": pool.describe(), "tasks_reported": pool.reported,
              "shutdown": report.to_json()}, lambda console: None)
    code = EXIT_ERROR if report.release_failed else 0
    if report.still_running:
        # A task function that never returns keeps its (non-daemon) executor thread alive;
        # its task is already handed back, so leave without waiting for it.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    if code:
        raise typer.Exit(code)


def _install_stop_signals(stop: threading.Event, force: threading.Event) -> Callable[[], None]:
    """SIGINT/SIGTERM set `stop`; a second one sets `force`. Returns a function restoring the old handlers."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None

    def handler(signum: int, frame: Any) -> None:
        (force if stop.is_set() else stop).set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def _setup_logging(verbose: bool) -> logging.Logger:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    # The SDK names its loggers "[<pid>] conductor.client...": its INFO chatter only with -v.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger(f"[{os.getpid()}] conductor").setLevel(logging.INFO if verbose else logging.WARNING)
    return logging.getLogger("idflow.worker.pool")


def _check_server(cli, log: logging.Logger) -> None:
    try:
        cli.client().health()
    except ConductorError as exc:
        log.warning("cannot reach Conductor yet (%s); the workers keep retrying", exc.message)
