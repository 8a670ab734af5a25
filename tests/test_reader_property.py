"""Property: every JSON and YAML reader, fed generated hostile documents, either returns plain JSON data
(finite numbers, bounded depth, string keys) or raises one of idflow's errors naming the file. Never
another exception, never a hang, never a value that cannot be printed or sent.

The documents mix: any JSON value with NaN/Infinity and over-long integers spliced in, deep nesting,
YAML anchors and aliases (bombs of any breadth and depth, self references), YAML tags, random bytes
(invalid UTF-8, NUL, control characters) and truncation.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from idflow.base.errors import IdflowError

leaves = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 30, 10 ** 30), st.text(max_size=8),
                   st.floats(allow_nan=True, allow_infinity=True))
values = st.recursive(leaves, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=6), inner, max_size=4)),
                      max_leaves=20)
TOKENS = ["NaN", "Infinity", "-Infinity", "1e999", "9" * 5000, "-" + "7" * 4400, ".nan", ".inf", "-.inf",
          "0x" + "f" * 5000, "!!binary aGk=", "!!set {a, b}", "!!python/object:os.system x", "2024-01-02",
          "&a [*a]", "? [a, b]\n: c", "<<: *missing", "\x00", "\t", "\ufeff"]


@st.composite
def bombs(draw) -> str:
    breadth, depth = draw(st.integers(2, 12)), draw(st.integers(1, 9))
    lines = ["l0: &l0 [x]"] + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * breadth)}]" for i in range(1, depth + 1)]
    return "\n".join(lines + [f"name: bomb\ntasks: *l{depth}\n"])


@st.composite
def documents(draw) -> bytes:
    kind = draw(st.sampled_from(["json", "spliced", "deep", "bomb", "bytes", "yaml-tokens"]))
    if kind == "json":
        text = json.dumps(draw(values), allow_nan=True)
    elif kind == "spliced":
        text = json.dumps(draw(values), allow_nan=True)
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at:]
    elif kind == "deep":
        depth = draw(st.integers(1, 3000))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}"), ("- ", "")]))
        text = (opener * depth + "1" + closer * depth) if closer else "".join(
            "  " * i + opener + "\n" for i in range(min(depth, 400))) + "1\n"
    elif kind == "bomb":
        text = draw(bombs())
    elif kind == "yaml-tokens":
        text = "\n".join(f"k{i}: {draw(st.sampled_from(TOKENS))}" for i in range(draw(st.integers(1, 4))))
    else:
        return draw(st.binary(max_size=200))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return data


def assert_plain(value, depth: int = 0) -> None:
    assert depth <= 130
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        assert len(str(abs(value))) <= 100
    elif isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str)
            assert_plain(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            assert_plain(item, depth + 1)
    else:
        assert value is None or isinstance(value, (str, bool)), type(value)


def _json(path: Path):
    from idflow.base.reading import read_json

    return [read_json(path)]


def _yaml(path: Path):
    from idflow.base.reading import read_yaml

    return [data for data, _ in read_yaml(path)]


def _workflows(path: Path):
    from idflow.workflowdefs.files import load_workflow_files

    found, issues = load_workflow_files(path.parent)
    assert all(i.path and i.message for i in issues)
    return [w.definition for w in found]


def _events(path: Path):
    from idflow.events.files import load_event_handler_files

    found = load_event_handler_files(path.parent)
    assert all(i.path and i.message for i in found.issues)
    return [h.definition for h in found.handlers]


def _backup(path: Path):
    from idflow.engine.backups import read_backup

    return [read_backup(path, kind) for kind in ("taskdefs", "workflows", "event_handlers")]


def _plan(path: Path):
    from idflow.base.errors import InvalidPlan
    from idflow.taskdefs.plan import read_plan_document
    from idflow.usecases.tasks import UploadPlan

    data = read_plan_document(path)   # a file that is no JSON object: an error naming the file
    try:
        UploadPlan.from_json(data)    # as `tasks apply` reads it: InvalidPlan, never a crash
    except InvalidPlan:
        pass
    return [data]


def _config(path: Path):
    from idflow.project.config import load_config

    load_config(path)
    return []


READERS = {"json": (_json, "x.json"), "yaml": (_yaml, "x.yaml"), "workflow-json": (_workflows, "w.json"),
           "workflow-yaml": (_workflows, "w.yaml"), "events": (_events, "event_handlers.json"),
           "backup": (_backup, "b.json"), "plan": (_plan, "plan.json"), "config": (_config, "idflow.yml")}


@pytest.mark.parametrize("reader", sorted(READERS))
@settings(max_examples=int(os.environ.get("IDFLOW_READER_EXAMPLES", "80")), deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(document=documents())
def test_every_reader_returns_plain_json_or_a_clear_error(tmp_path_factory, reader, document):
    read, name = READERS[reader]
    folder = tmp_path_factory.mktemp("doc")
    path = folder / name
    path.write_bytes(document)
    try:
        results = read(path)
    except IdflowError as exc:
        assert str(path) in exc.message or path.name in exc.message, exc.message
        assert len(exc.message) < 2000
        return
    for value in results:
        assert_plain(value)
        json.dumps(value, allow_nan=False)
