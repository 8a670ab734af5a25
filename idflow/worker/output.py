"""What a task function's return value becomes on the wire: JSON by one documented rule, or a FAILED task.

Conductor stores a task's output as JSON. The SDK would send whatever it is given: a NaN
makes the server refuse the update (the task then stays IN_PROGRESS until it times out),
and a set, a datetime, bytes or any other object was silently turned into its `str()`.
So the output is converted here, before the SDK sees it:

- dict (string keys; int keys become their decimal text, as JSON writes them), list, tuple
  (a list), str, bool, None, int (up to 100 digits) and finite float: kept;
- datetime, date and time: ISO 8601 text (`value.isoformat()`);
- a dataclass instance: its fields as a dict (`dataclasses.asdict`, as the SDK did), then this rule;
- set and frozenset: a sorted list, when the elements can be sorted; otherwise refused;
- NaN and Infinity: refused (JSON and Conductor have neither);
- bytes, bytearray and memoryview: refused (decode them, or base64 them, yourself);
- everything else (custom objects, Decimal, generators, ...): refused.

A refusal raises `OutputRefused`, so the SDK reports the task FAILED at once, with a reason
naming the key (`output key 'a.b[2]' ...`). So does an output whose JSON is over
`MAX_OUTPUT_BYTES`, the largest task output the Conductor server stores by default.
"""
from __future__ import annotations

import dataclasses
import datetime
import json
import math
from typing import Any

MAX_DEPTH = 100
MAX_INT_DIGITS = 100
# Conductor's conductor.app.maxTaskOutputPayloadSizeThreshold defaults to 10,240 KB: a larger output
# fails the task on the server, after the worker has spent the time and the upload.
MAX_OUTPUT_BYTES = 10_240 * 1024


class OutputRefused(Exception):
    """The task function returned something that cannot be a task output: the task ends FAILED."""


def json_output(value: Any, path: str = "") -> Any:
    """`value` converted to JSON data by the module's rule; OutputRefused names the first key that cannot be."""
    return _convert(value, path, 0)


def check_size(output: Any, function: str) -> None:
    size = len(json.dumps(output, allow_nan=False, separators=(",", ":")).encode("utf-8"))
    if size > MAX_OUTPUT_BYTES:
        raise OutputRefused(f"{function}: the output is {size / 2**20:.1f} MiB of JSON, over the "
                            f"{MAX_OUTPUT_BYTES // 2**20} MiB a Conductor task output may hold; store large data "
                            "elsewhere (a file, a bucket) and return where it is")


def _where(path: str) -> str:
    if len(path) > 120:
        path = path[:40] + "..." + path[-70:]
    return f"output key {path!r}" if path else "the output"


def _convert(value: Any, path: str, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise OutputRefused(f"{_where(path)} is nested more than {MAX_DEPTH} levels deep (or refers to itself)")
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if value.bit_length() > MAX_INT_DIGITS * 3.33:
            raise OutputRefused(f"{_where(path)} is an integer of more than {MAX_INT_DIGITS} digits; return it as "
                                "a string")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise OutputRefused(f"{_where(path)} is {value!r}, which is not a JSON number (JSON and Conductor have "
                                "no NaN or Infinity); return None or a string instead")
        return float(value)
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if isinstance(key, int) and not isinstance(key, bool):
                key = str(key)
            elif not isinstance(key, str):
                raise OutputRefused(f"{_where(path)} has a key of type {type(key).__name__} ({_short(key)}): JSON "
                                    "keys are strings")
            result[key] = _convert(item, f"{path}.{key}" if path else key, depth + 1)
        return result
    if isinstance(value, (list, tuple)):
        return [_convert(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)]
    if isinstance(value, (set, frozenset)):
        try:
            ordered = sorted(value)
        except TypeError:
            raise OutputRefused(f"{_where(path)} is a set whose elements cannot be sorted "
                                f"({', '.join(sorted({type(v).__name__ for v in value}))}); return a list") from None
        return [_convert(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(ordered)]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _convert(dataclasses.asdict(value), path, depth)
    if isinstance(value, (bytes, bytearray, memoryview)):
        raise OutputRefused(f"{_where(path)} is {type(value).__name__}, which JSON cannot hold; decode it "
                            "(value.decode()) or base64-encode it")
    raise OutputRefused(f"{_where(path)} is a {type(value).__module__}.{type(value).__qualname__} ({_short(value)}), "
                        "which is not a JSON value; return a dict, list, string, number, bool or None")


def _short(value: Any) -> str:
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."
