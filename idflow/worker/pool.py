"""`idflow worker start`: poll with conductor-python for the task modules `idflow.worker.loading` imported.

Importing a task file runs its `@worker_task` (the SDK's, or idflow's wrapper), which
registers the function in the SDK's registry; `get_registered_workers` makes SDK
`Worker`s of them and each runs in the SDK's own `TaskRunner` (poll, call, update, lease
extension), one thread per task type; each function is called by the contract of
`idflow.worker.contract` (whole input dict, Task, or input keys by parameter name). Not the
SDK's `TaskHandler`: its stop kills worker processes with their tasks in flight, and
in thread mode cannot stop them at all. Here each runner's task client is wrapped to
remember the tasks polled and not yet reported; on stop, polling ends, those tasks get
`grace` seconds to finish, and what is still held goes back to the queue (IN_PROGRESS,
callbackAfterSeconds=0) instead of waiting out its response timeout. Definitions are
never registered: uploads go through idflow's plan.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Mapping

from conductor.client.automator.task_handler import get_registered_workers
from conductor.client.automator.task_runner import TaskRunner
from conductor.client.configuration.configuration import Configuration
from conductor.client.configuration.settings.authentication_settings import AuthenticationSettings
from conductor.client.http.api.task_resource_api import TaskResourceApi
from conductor.client.http.api_client import ApiClient
from conductor.client.http.models.task_result import TaskResult
from conductor.client.http.models.task_result_status import TaskResultStatus

from idflow.base.errors import WorkerStartError
from idflow.conductor.auth import auth_from_env
from idflow.worker.contract import ContractError, adapt

log = logging.getLogger("idflow.worker.pool")
DEFAULT_GRACE_SECONDS = 8.0   # with the release and the join after it, a stop stays within 10 s
FOREVER_MS = 10 * 365 * 24 * 3600 * 1000



@dataclass(frozen=True)
class WorkerOverrides:
    """Command-line values that replace the decorator's worker options."""

    threads: int | None = None
    poll_interval_ms: int | None = None
    domain: str | None = None


# ---- the SDK side ------------------------------------------------------------------------
def sdk_configuration(config: Any, environ: Mapping[str, str] | None = None) -> Any:
    """conductor-python's Configuration for `config.api_url`, with the same credentials idflow uses."""
    auth = auth_from_env(config.conductor_api_key_env_var, environ)  # the same credentials the client reads
    key_id, secret = auth.key_id, auth.key_secret
    settings = AuthenticationSettings(key_id=key_id, key_secret=secret) if key_id and secret else None
    configuration = Configuration(server_api_url=config.api_url, authentication_settings=settings)
    configuration.authentication_settings = settings  # the SDK would read the env itself when None
    api_key = auth.api_key
    if settings is None and api_key:
        # The SDK only knows key id + secret -> token; a ready API key is handed over as that token, never renewed.
        configuration.authentication_settings = AuthenticationSettings(key_id=None, key_secret=None)
        configuration.auth_token_ttl_msec = FOREVER_MS
        configuration.update_token(api_key)
    configuration.verify_ssl = bool(config.verify_tls)
    return configuration


def registered_workers(names: Iterable[str], overrides: WorkerOverrides = WorkerOverrides()) -> list[Any]:
    """SDK Workers for the named tasks, from what their decorators registered; never registering definitions."""
    wanted = set(names)
    unfit: list[str] = []
    chosen: dict[Any, Any] = {}
    for worker in get_registered_workers():
        name = worker.get_task_definition_name()
        # One worker per task and domain; with --domain, the decorators' domains collapse into one.
        key = name if overrides.domain is not None else (name, worker.domain)
        if name not in wanted or key in chosen:
            continue
        worker.register_task_def = False
        try:
            worker.execute_function = adapt(worker.execute_function)  # the contract of idflow.worker.contract
        except ContractError as exc:
            unfit.append(str(exc))
            continue
        if overrides.threads is not None:
            worker.thread_count = overrides.threads
        if overrides.poll_interval_ms is not None:
            worker.poll_interval = overrides.poll_interval_ms
        if overrides.domain is not None:
            worker.domain = overrides.domain
        chosen[key] = worker
    if unfit:
        raise WorkerStartError("task function(s) that idflow cannot call; no worker was started", unfit,
                               hint="see 'Writing a task' in the README for the forms a task function may take")
    return list(chosen.values())


class _TrackingTaskClient:
    """A runner's TaskResourceApi that remembers tasks polled and not yet reported back."""

    def __init__(self, inner: Any, pool: "WorkerPool") -> None:
        self._inner, self._pool = inner, pool

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def batch_poll(self, *args: Any, **kwargs: Any) -> Any:
        with self._pool._lock:
            self._pool._polls += 1
        try:
            tasks = self._inner.batch_poll(*args, **kwargs)
            self._pool._hold(tasks or [])
            return tasks
        finally:
            with self._pool._lock:
                self._pool._polls -= 1

    def update_task(self, body: Any, **kwargs: Any) -> Any:
        result = self._inner.update_task(body=body, **kwargs)
        self._pool._reported(body)
        return result

    def update_task_v2(self, body: Any, **kwargs: Any) -> Any:
        if self._pool.draining.is_set():  # no next task while stopping: v1 hands none out
            self.update_task(body=body, **kwargs)
            return None
        next_task = self._inner.update_task_v2(body=body, **kwargs)
        self._pool._reported(body)
        self._pool._hold([next_task] if next_task is not None else [])
        return next_task


@dataclass
class ShutdownReport:
    """What a worker stop did with the tasks it held: handed back to the queue, not handed back, still running."""
    in_flight: int = 0                                  # tasks held when the stop began
    released: list[str] = field(default_factory=list)   # task ids handed back to the queue
    release_failed: list[str] = field(default_factory=list)
    still_running: int = 0                              # task functions that did not return

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class WorkerPool:
    """SDK TaskRunners in threads, with a stop that finishes or hands back every task it holds."""

    def __init__(self, workers: list[Any], configuration: Any) -> None:
        self.configuration = configuration
        self.draining = threading.Event()
        self.reported = 0
        self._lock = threading.Lock()
        self._held: dict[str, tuple[str, str]] = {}   # task id -> (workflow id, worker id)
        self._polls = 0
        self.runners = []
        for worker in workers:
            runner = TaskRunner(worker, configuration)
            runner.worker.register_task_def = False   # not even when conductor.worker.* env vars ask for it
            runner.task_client = _TrackingTaskClient(runner.task_client, self)
            self.runners.append(runner)
        self._threads: list[threading.Thread] = []

    def _hold(self, tasks: list[Any]) -> None:
        with self._lock:
            for task in tasks:
                if getattr(task, "task_id", None):
                    self._held[task.task_id] = (task.workflow_instance_id, task.worker_id or "")

    def _reported(self, result: Any) -> None:
        status = str(getattr(result.status, "value", result.status))
        if status == "IN_PROGRESS" and result.extend_lease:
            return  # a lease heartbeat: still ours
        with self._lock:
            if self._held.pop(result.task_id, None) is not None and status != "IN_PROGRESS":
                self.reported += 1

    @property
    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def start(self) -> None:
        for runner in self.runners:
            name = runner.worker.get_task_definition_name()
            thread = threading.Thread(target=runner.run, name=f"idflow-worker-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def describe(self) -> list[dict[str, Any]]:
        return [{"task": r.worker.get_task_definition_name(), "threads": r.worker.thread_count,
                 "poll_interval_ms": r.worker.poll_interval, "domain": r.worker.domain} for r in self.runners]

    def stop(self, grace: float = DEFAULT_GRACE_SECONDS, force: threading.Event | None = None) -> ShutdownReport:
        """Stop polling; wait up to `grace` s for held tasks; hand back what is left."""
        self.draining.set()
        for runner in self.runners:
            runner.worker.paused = True
        report = ShutdownReport(in_flight=self.held)
        deadline = time.monotonic() + grace
        while (self.held or self._polls) and time.monotonic() < deadline and not (force and force.is_set()):
            time.sleep(0.05)
        for runner in self.runners:
            runner.stop()
        for thread in self._threads:
            thread.join(timeout=max(0.05, min(1.0, deadline - time.monotonic())))
        self._release(report)
        report.still_running = sum(t.is_alive() for t in self._threads)
        return report

    def _release(self, report: ShutdownReport) -> None:
        with self._lock:
            held = dict(self._held)
        if not held:
            return
        client = TaskResourceApi(ApiClient(configuration=self.configuration))
        for task_id, (workflow_id, worker_id) in held.items():
            body = TaskResult(task_id=task_id, workflow_instance_id=workflow_id, worker_id=worker_id,
                              status=TaskResultStatus.IN_PROGRESS, callback_after_seconds=0)
            try:
                client.update_task(body=body)
                report.released.append(task_id)
            except Exception as exc:  # the server may be gone: the response timeout then frees the task
                log.warning("could not hand task %s back to the queue: %s", task_id, exc)
                report.release_failed.append(task_id)

