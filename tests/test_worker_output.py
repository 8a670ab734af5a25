"""The output rule (idflow/worker/output.py) without a server: each shape converted or refused by key."""
from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass

import pytest

from idflow.worker.contract import ContractError, contract_of, to_output
from idflow.worker.output import MAX_OUTPUT_BYTES, OutputRefused, json_output


@dataclass
class Point:
    x: int
    when: datetime.date


KEPT = [
    ({"a": [1, 2.5, "s", True, None]}, {"a": [1, 2.5, "s", True, None]}),
    ({"t": (1, 2)}, {"t": [1, 2]}),
    ({"at": datetime.datetime(2024, 5, 6, 7, 8, 9)}, {"at": "2024-05-06T07:08:09"}),
    ({"t": datetime.time(1, 2)}, {"t": "01:02:00"}),
    ({"s": {"b", "a"}}, {"s": ["a", "b"]}),
    ({"s": frozenset({2.5, 1})}, {"s": [1, 2.5]}),
    ({7: "seven"}, {"7": "seven"}),
    ({"p": Point(1, datetime.date(2024, 1, 1))}, {"p": {"x": 1, "when": "2024-01-01"}}),
]


@pytest.mark.parametrize("value, expected", KEPT)
def test_json_values_and_documented_conversions(value, expected):
    assert json_output(value) == expected


nested: dict = {}
nested["self"] = nested

REFUSED = [
    ({"a": {"b": [0, float("nan")]}}, "a.b[1]"),
    ({"x": float("inf")}, "'x'"),
    ({"raw": b"\x00"}, "bytes"),
    ({"m": memoryview(b"x")}, "memoryview"),
    ({"s": {1, "a"}}, "cannot be sorted"),
    ({"d": decimal.Decimal("1")}, "Decimal"),
    ({"o": object()}, "builtins.object"),
    ({(1, 2): "tuple key"}, "key of type tuple"),
    ({"g": (i for i in range(2))}, "generator"),
    ({"big": 10 ** 200}, "more than 100 digits"),
    (nested, "refers to itself"),
]


@pytest.mark.parametrize("value, fragment", REFUSED, ids=[f for _, f in REFUSED])
def test_everything_else_is_refused_naming_the_key(value, fragment):
    with pytest.raises(OutputRefused, match=None) as caught:
        json_output(value)
    assert fragment in str(caught.value) and len(str(caught.value)) < 400


def test_scalars_are_wrapped_as_result_and_checked_under_that_key():
    assert to_output(3) == {"result": 3} and to_output([datetime.date(2024, 1, 1)]) == {"result": ["2024-01-01"]}
    with pytest.raises(OutputRefused, match="'result'"):
        to_output(float("nan"))


def test_an_output_over_the_servers_limit_is_refused_before_it_is_sent():
    with pytest.raises(OutputRefused, match="MiB"):
        to_output({"blob": "x" * (MAX_OUTPUT_BYTES + 1)})


def test_task_results_get_their_output_converted():
    from conductor.client.context.task_context import TaskInProgress
    from conductor.client.http.models.task_result import TaskResult

    result = TaskResult(task_id="t")
    result.output_data = {"s": {2, 1}}
    assert to_output(result).output_data == {"s": [1, 2]}
    with pytest.raises(OutputRefused, match="'n'"):
        to_output(TaskInProgress(callback_after_seconds=1, output={"n": float("nan")}))


def _gen(task_input):
    yield task_input


async def _agen(task_input):
    yield task_input


@pytest.mark.parametrize("func", [_gen, _agen], ids=["generator", "async_generator"])
def test_generator_functions_are_refused_when_the_worker_starts(func):
    with pytest.raises(ContractError, match="it uses yield"):
        contract_of(func)
