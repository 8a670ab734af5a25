"""Flows made from the operation registry (idflow.usecases.registry): one factory, no flow written by hand.

`make_flow(op)` gives a Prefect flow whose parameters are the operation's (plus config_path and
environment), typed so the Prefect UI shows a form and validates it. A run opens a session, calls
the operation's use case with `run=prefect_steps` (each step a retried Prefect task), publishes the
document as the operation's artifact and returns it: the very document `idflow --json COMMAND`
prints. A refusal ends it as every idflow flow does (`ending.ends_cleanly`); an outcome that is not
`ok` ends it Failed, the names not done in its message.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable, Optional

from prefect import flow
from prefect.settings import get_current_settings

from idflow.flows import artifacts
from idflow.flows.ending import ends_cleanly, finish, publish, run_name
from idflow.flows.runner import prefect_steps
from idflow.flows.session import open_session
from idflow.usecases.registry import COMMON, OPERATIONS, Operation, Param
from idflow.usecases.revisions import ScheduleGuard

ANNOTATIONS: dict[str, Any] = {"bool": bool, "bool?": Optional[bool], "str": str, "str?": Optional[str],
                               "names": Optional[list[str]]}


def _schedule_guard(pause: bool) -> Any:
    """A rollback run checks the sync schedules of the Prefect server it runs on, as the CLI does; it never
    goes on unchecked (a run cannot be given --yes for that)."""
    return ScheduleGuard(get_current_settings().api.url or None, pause=bool(pause), proceed_unchecked=False)


CONVERTERS: dict[str, Callable[[Any], Any]] = {"path": Path, "schedule_guard": _schedule_guard}


def signature(op: Operation) -> inspect.Signature:
    """The flow's parameters: the operation's, then config_path and environment (keyword-only, so a
    required one may follow one with a default)."""
    return inspect.Signature([inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY,
                                                default=inspect.Parameter.empty if p.required else p.default,
                                                annotation=ANNOTATIONS[p.type])
                              for p in (*op.params, *COMMON)], return_annotation=Any)


def usecase_kwargs(params: tuple[Param, ...], values: dict[str, Any]) -> dict[str, Any]:
    """The use case's keywords from the flow's values; None leaves the use case's own default."""
    kwargs = {}
    for param in params:
        value = values.get(param.name)
        if param.convert is not None:
            kwargs[param.usecase_arg] = CONVERTERS[param.convert](value) if value is not None else None
        elif value is not None:
            kwargs[param.usecase_arg] = value
    return kwargs


def not_done(doc: dict[str, Any]) -> list[str]:
    """The names an account (and the accounts nested in it, e.g. a stamping upload) did not get done."""
    names: list[str] = []
    for node in (doc, *(v for v in doc.values() if isinstance(v, dict))):
        for key in ("failed", "unknown"):
            names += [str(f.get("name") if isinstance(f, dict) else f) for f in node.get(key) or []]
        names += [str(n) for n in node.get("not_attempted") or []]
    return list(dict.fromkeys(names))


def make_flow(op: Operation) -> Any:
    """The Prefect flow of one registry operation."""

    def body(**values: Any) -> Any:
        with open_session(values.get("config_path"), values.get("environment")) as session:
            outcome = op.load_usecase()(session, **usecase_kwargs(op.params, values), run=prefect_steps)
        doc = outcome.to_json()
        publish(op.artifact_key, artifacts.account_markdown(f"idflow {op.command}", doc),
                f"What {op.command} did (dry run: what it would do)")
        if getattr(outcome, "ok", True):
            return doc
        missing = not_done(doc)
        return finish(doc, [f"{len(missing) or 'some'} definition(s) not done: {', '.join(missing[:5])}"
                            f"{' and more' if len(missing) > 5 else ''} (see the {op.artifact_key} artifact)"])

    body.__signature__ = signature(op)  # type: ignore[attr-defined]
    body.__annotations__ = {p.name: ANNOTATIONS[p.type] for p in (*op.params, *COMMON)} | {"return": Any}
    body.__name__ = body.__qualname__ = op.name
    body.__doc__ = op.summary
    body.__module__ = "idflow.flows.definitions"
    return flow(name=op.flow, flow_run_name=run_name(op.command), persist_result=False,
                description=op.summary)(ends_cleanly(body))


def generated_flows() -> dict[str, Any]:
    """A flow for every registry operation without a hand-written one."""
    return {name: make_flow(op) for name, op in OPERATIONS.items() if not op.custom_flow}
