"""The flows' StepRunner: every step of a use case runs as its own Prefect task.

Retries live here, at the step: a step that raised an `idflow.base.errors.TransientError`
is retried with exponential backoff; a refusal, a validation error or an invalid task
file fails at once. A step whose result carries a transient failure it accounted for
(an apply stopped by a 503 mid-batch) raises it while retries are left, so the same
idempotent write is tried again; the last attempt returns the account.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff
from prefect.utilities.annotations import quote
from prefect.runtime import task_run

from idflow.base.errors import TransientError

RETRIES = 3
BACKOFF_SECONDS = 2.0   # 2, 4, 8 s between Prefect retries (the client already retried within each attempt)


def only_transient(task_, task_run, state) -> bool:
    """`retry_condition_fn`: retry only when the step failed with a TransientError."""
    exc = state.data if isinstance(state.data, BaseException) else None
    if exc is None:
        try:
            exc = state.result(raise_on_failure=False)
        except Exception:
            return False
    return isinstance(exc, TransientError)


def _raise_accounted_transient(step: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(step)
    def call(*args: Any, **kwargs: Any) -> Any:
        result = step(*args, **kwargs)
        transient = getattr(result, "transient", None)
        if transient is not None and (task_run.run_count or 1) <= RETRIES:
            raise transient
        return result
    return call


_TASKS: dict[Callable[..., Any], Any] = {}
# What each step's task run is called in the Prefect UI.
LABELS = {"discover": "discover local tasks", "fetch_taskdefs": "fetch task definitions",
          "fetch_workflows": "fetch workflow definitions", "plan_upload": "plan upload", "plan_purge": "plan purge",
          "apply_upload": "apply writes", "execute_purge": "delete definitions",
          "fetch_observed": "fetch queues, pollers and executions"}


def as_task(step: Callable[..., Any]) -> Any:
    """The Prefect task wrapping exactly this core step (made once per step)."""
    wrapped = _TASKS.get(step)
    if wrapped is None:
        wrapped = task(_raise_accounted_transient(step), name=step.__name__.replace("_", "-"),
                       task_run_name=LABELS.get(step.__name__, step.__name__.replace("_", " ")),
                       retries=RETRIES, retry_delay_seconds=exponential_backoff(backoff_factor=BACKOFF_SECONDS),
                       retry_jitter_factor=0.2, retry_condition_fn=only_transient, cache_policy=NO_CACHE,
                       persist_result=False)
        _TASKS[step] = wrapped
    return wrapped


def prefect_steps(step: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """StepRunner: run `step` as a Prefect task. Arguments are quoted: plans and clients pass
    through as they are instead of being walked in search of futures."""
    return as_task(step)(*(quote(a) for a in args), **{k: quote(v) for k, v in kwargs.items()})
