"""The worker contract (idflow.worker.contract): how a task function is called and what its output becomes.

The unit tests drive the SDK's own `Worker.execute` with the adapted function, as the
TaskRunner does; the end-to-end tests run every form through a real workflow.
"""
from __future__ import annotations

import asyncio
import json
import textwrap
import uuid
from dataclasses import dataclass
from typing import Any, Mapping

import pytest

from idflow.worker.contract import ContractError, adapt, contract_of, to_output


def sdk_task(input_data: dict) -> Any:
    from conductor.client.http.models.task import Task

    return Task(task_id="t1", workflow_instance_id="w1", task_def_name="x", input_data=input_data)


def execute(func, input_data: dict) -> Any:
    """What the SDK reports for one task run by the adapted function: (status, output, reason)."""
    from conductor.client.worker.worker import Worker

    result = Worker("x", adapt(func)).execute(sdk_task(input_data))
    return str(getattr(result.status, "value", result.status)), result.output_data, result.reason_for_incompletion


# ---- the forms, without a server ----------------------------------------------------------------------
def whole_plain(task_input):
    return {"echo": task_input, "x": task_input.get("x")}


def whole_dict(task_input: dict) -> dict:
    return {"echo": task_input, "x": task_input.get("x")}


def whole_mapping(data: Mapping[str, Any]) -> dict:
    return {"echo": dict(data), "x": data.get("x")}


def whole_any(data: Any) -> dict:
    return {"echo": data, "x": data.get("x")}


def single_key(x: str) -> dict:
    return {"x": x}


def named(x: str, top_n: int = 10) -> dict:
    return {"x": x, "top_n": top_n}


def with_kwargs(x: str, **rest) -> dict:
    return {"x": x, "rest": rest}


def task_param(task: "Task") -> dict:  # noqa: F821  (resolved from the string)
    return {"echo": task.input_data, "id": task.task_id}


def task_and_keys(x: str, task: "Task") -> dict:  # noqa: F821
    return {"x": x, "id": task.task_id}


def no_params() -> dict:
    return {"called": True}


@dataclass
class Point:
    x: int
    y: int


def builds_dataclass(point: Point) -> dict:
    return {"sum": point.x + point.y, "type": type(point).__name__}


FORMS = [  # function, form, input, output
    (whole_plain, "input", {"x": "a", "y": 1}, {"echo": {"x": "a", "y": 1}, "x": "a"}),
    (whole_dict, "input", {"x": "a"}, {"echo": {"x": "a"}, "x": "a"}),
    (whole_mapping, "input", {"x": "a"}, {"echo": {"x": "a"}, "x": "a"}),
    (whole_any, "input", {"x": "a"}, {"echo": {"x": "a"}, "x": "a"}),
    (single_key, "keys", {"x": "a", "other": 1}, {"x": "a"}),
    (named, "keys", {"x": "a"}, {"x": "a", "top_n": 10}),
    (named, "keys", {"x": "a", "top_n": 3}, {"x": "a", "top_n": 3}),
    (with_kwargs, "keys", {"x": "a", "k": 1, "m": [2]}, {"x": "a", "rest": {"k": 1, "m": [2]}}),
    (task_param, "task", {"x": "a"}, {"echo": {"x": "a"}, "id": "t1"}),
    (task_and_keys, "keys", {"x": "a"}, {"x": "a", "id": "t1"}),
    (no_params, "none", {"x": "a"}, {"called": True}),
    (builds_dataclass, "keys", {"point": {"x": 2, "y": 3, "z": 9}}, {"sum": 5, "type": "Point"}),
]


@pytest.mark.parametrize("func,form,given,output", FORMS, ids=[f"{f[0].__name__}-{i}" for i, f in enumerate(FORMS)])
def test_each_form_gets_its_input_through_the_sdk_worker(func, form, given, output):
    assert contract_of(func).form == form
    assert execute(func, given) == ("COMPLETED", output, None)


def test_the_sdk_alone_gives_the_guide_form_a_task_and_the_readme_form_none():
    """Why the contract exists: conductor-python 2.0 itself calls these two differently from the guide."""
    from conductor.client.http.models.task import Task
    from conductor.client.worker.worker import Worker

    seen = []
    Worker("x", lambda task_input: seen.append(task_input) or {}).execute(sdk_task({"x": "a"}))

    def readme(task_input: dict) -> dict:
        seen.append(task_input)
        return {}

    Worker("x", readme).execute(sdk_task({"x": "a"}))
    assert isinstance(seen[0], Task) and seen[1] is None
    execute(readme, {"x": "a"})
    assert seen[2] == {"x": "a"}


RETURNS = [({"a": 1}, {"a": 1}), ({}, {}), (None, {}), ([1, "two"], {"result": [1, "two"]}),
           ("text", {"result": "text"}), (7, {"result": 7}), (2.5, {"result": 2.5}), (True, {"result": True}),
           ((1, 2), {"result": [1, 2]})]


@pytest.mark.parametrize("value,output", RETURNS, ids=[repr(r[0]) for r in RETURNS])
def test_return_values_become_the_output(value, output):
    def task(task_input):
        return value

    status, sent, reason = execute(task, {})
    assert (status, json.loads(json.dumps(sent)), reason) == ("COMPLETED", output, None)  # as the server gets it


def test_missing_required_key_fails_the_task_for_good_naming_the_key():
    status, output, reason = execute(named, {"top_n": 2})
    assert status == "FAILED_WITH_TERMINAL_ERROR"
    assert "no key 'x'" in reason and "input keys: top_n" in reason
    assert execute(single_key, {})[0] == "FAILED_WITH_TERMINAL_ERROR"


def test_an_exception_in_the_task_still_fails_it_for_a_retry():
    def broken(task_input):
        raise ValueError("boom")

    assert execute(broken, {})[0:3:2] == ("FAILED", "boom")


def test_async_functions_are_awaited_and_their_output_normalised():
    async def echo(x: str) -> None:
        await asyncio.sleep(0)
        return None if x == "none" else {"x": x}

    assert contract_of(echo).is_async
    call = adapt(echo)
    assert asyncio.run(call(sdk_task({"x": "a"}))) == {"x": "a"}
    assert asyncio.run(call(sdk_task({"x": "none"}))) == {}


def test_string_annotations_from_future_import(tmp_path):
    source = textwrap.dedent("""
        from __future__ import annotations
        from typing import Mapping
        from conductor.client.http.models.task import Task

        def whole(task_input: dict) -> dict: return task_input
        def mapping(task_input: Mapping[str, int]) -> dict: return dict(task_input)
        def task(t: Task) -> dict: return {"id": t.task_id}
        def key(x: int) -> dict: return {"x": x}
        def unresolvable(task_input: NoSuchType) -> dict: return {"x": task_input}
        def unresolvable_dict(task_input: "dict[str, NoSuchType]") -> dict: return task_input
    """)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(tmp_path / "m.py"), "exec"), namespace)
    forms = {name: contract_of(namespace[name]).form for name in ("whole", "mapping", "task", "key", "unresolvable",
                                                                  "unresolvable_dict")}
    assert forms == {"whole": "input", "mapping": "input", "task": "task", "key": "keys", "unresolvable": "keys",
                     "unresolvable_dict": "input"}


def test_two_task_parameters_cannot_be_served():
    from conductor.client.http.models.task import Task

    def twice(a: Task, b: Task) -> dict:
        return {}

    with pytest.raises(ContractError, match="more than one parameter is annotated Task"):
        contract_of(twice)


def test_to_output_keeps_task_results_for_the_sdk():
    from conductor.client.http.models.task_result import TaskResult

    result = TaskResult(task_id="t1")
    assert to_output(result) is result and to_output(None) == {}


@pytest.mark.parametrize("decorator", ["sdk", "idflow"])
def test_decorated_functions_stay_directly_callable_and_are_adapted_only_at_worker_start(decorator):
    from conductor.client.automator.task_handler import get_registered_workers

    from idflow.worker.pool import registered_workers

    name = f"t_callable_{uuid.uuid4().hex[:8]}"
    if decorator == "sdk":
        from conductor.client.worker.worker_task import worker_task
    else:
        from idflow import worker_task

    @worker_task(task_definition_name=name)
    def my_task(task_input):
        return {"result": f"processed: {task_input.get('input')}"}

    assert my_task({"input": "test"}) == {"result": "processed: test"}
    [raw] = [w for w in get_registered_workers() if w.get_task_definition_name() == name]
    assert raw.execute_function.__name__ == "my_task" and not hasattr(raw.execute_function, "__idflow_contract__")
    [worker] = registered_workers([name])
    assert worker.execute(sdk_task({"input": "test"})).output_data == {"result": "processed: test"}
    assert my_task({"input": "again"}) == {"result": "processed: again"}  # still the plain function


def test_a_function_idflow_cannot_call_stops_the_worker_start():
    from conductor.client.http.models.task import Task

    from idflow import worker_task
    from idflow.base.errors import WorkerStartError
    from idflow.worker.pool import registered_workers

    name = f"t_unfit_{uuid.uuid4().hex[:8]}"

    @worker_task(task_definition_name=name)
    def twice(a: Task, b: Task) -> dict:
        return {}

    with pytest.raises(WorkerStartError, match="cannot call") as caught:
        registered_workers([name])
    assert "more than one parameter is annotated Task" in str(caught.value)
