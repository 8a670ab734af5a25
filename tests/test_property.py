"""Property: any valid set of decorator keywords survives the round trip.

Hypothesis draws keyword sets over every TaskDef keyword idflow knows (taskdef.FIELDS),
keeps those idflow's own validation accepts, writes the task file, uploads it to the real
server and reads it back: the server holds exactly the generated values (defaults for the
rest), and `tasks diff` finds no drift. A server that rejected or altered a definition
idflow calls valid would fail here.
"""
from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from idflow.model import fields as taskdef
from idflow.model.validation import validate
from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server

seconds = st.integers(min_value=0, max_value=10 ** 7)
words = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
emails = st.builds("{}@{}.{}".format, st.from_regex(r"[a-z0-9._-]{1,12}", fullmatch=True),
                   st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True), st.sampled_from(["org", "com", "io"]))
STRATEGIES = {
    "retry_count": st.integers(0, 1000),
    "timeout_seconds": seconds,
    "timeout_policy": st.sampled_from(taskdef.TIMEOUT_POLICIES),
    "retry_logic": st.sampled_from(taskdef.RETRY_LOGICS),
    "retry_delay_seconds": seconds,
    "response_timeout_seconds": st.integers(1, 10 ** 7),
    "concurrent_exec_limit": st.integers(0, 10 ** 5),
    "rate_limit_frequency_in_seconds": st.integers(0, 10 ** 5),
    "rate_limit_per_frequency": st.integers(0, 10 ** 5),
    "backoff_scale_factor": st.integers(1, 100),
    "total_timeout_seconds": seconds,
    "poll_timeout_seconds": seconds,
    "owner_email": emails,
    "input_keys": st.lists(words, max_size=4),
    "output_keys": st.lists(words, max_size=4),
    # Sometimes with idflow's trailer marker inside, which validation must reject (else the text is lost).
    "description": st.one_of(words, st.builds("{}\n\n[idflow] {}".format, words, words)),
}
assert set(STRATEGIES) == taskdef.TASKDEF_KEYWORDS, "a TaskDef keyword has no strategy"
keyword_sets = st.fixed_dictionaries({}, optional=STRATEGIES)
counter = itertools.count()


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.filter_too_much])
@given(keywords=keyword_sets)
def test_valid_keywords_round_trip_through_the_server(project, prefix, client, capsys, keywords):
    name = f"{prefix}p{next(counter)}"
    desired = taskdef.build(name, keywords, docstring=f"Task {name} for tests.")
    assume(not validate(desired))
    project.write_task(name, task_source(name, **keywords))

    uploaded = run_cli(capsys, "tasks", "upload", name, "--json")
    assert uploaded.code == 0, uploaded.out + uploaded.err
    assert uploaded.json["created"] == [name] and uploaded.json["failed"] == []

    server = client.get_taskdef(name)
    for keyword, value in keywords.items():
        wire = taskdef.FIELDS_BY_KEYWORD[keyword].wire
        held = taskdef.strip_provenance(server.get(wire)) if wire == "description" else server.get(wire)
        assert held == value, f"{keyword}={value!r} came back as {held!r}"
    fields = taskdef.owned_fields(desired)
    assert taskdef.owned_view(server, fields) == taskdef.owned_view(desired, fields)  # defaults too

    diff = run_cli(capsys, "tasks", "diff", name, "--json")
    assert diff.code == 0, diff.out
    assert [i["action"] for i in diff.json["items"]] == ["unchanged"]
