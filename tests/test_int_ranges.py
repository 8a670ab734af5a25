"""Integer fields are checked against the server's Java types before any request.

Conductor parses each integer field as a Java int (or long, for the three timeouts);
a larger value fails the JSON parse with a 500 for the whole batch. Validation must
refuse it, so an upload with one such task writes nothing at all.
"""
from __future__ import annotations

import pytest

from idflow.model import fields as taskdef
from idflow.discovery import discover
from idflow.model.validation import validate
from tests.clihelp import run_cli, task_source

INT_FIELDS = sorted(taskdef.INT_MAXIMUM)
INT_KEYWORDS = [taskdef.FIELDS_BY_WIRE[f].keyword for f in INT_FIELDS]


def test_every_integer_field_has_a_maximum():
    assert set(INT_FIELDS) == {f.wire for f in taskdef.FIELDS if f.kind is int}
    assert taskdef.INT_MAXIMUM["retryCount"] == 2_147_483_647


@pytest.mark.parametrize("field", INT_FIELDS)
def test_validate_accepts_the_maximum_and_refuses_one_more(field):
    base = taskdef.build("ranged", {})
    top = taskdef.INT_MAXIMUM[field]
    assert validate({**base, field: top}) == []
    problems = validate({**base, field: top + 1})
    assert len(problems) == 1 and problems[0].startswith(f"{field} must be <= {top:,}")


@pytest.mark.parametrize("field", INT_FIELDS)
def test_huge_numbers_give_a_short_message(field):
    base = taskdef.build("ranged", {})
    [problem] = validate({**base, field: 10 ** 5000})  # str() of this int would raise
    assert field in problem and "bit number" in problem and len(problem) < 200


@pytest.mark.parametrize("keyword", INT_KEYWORDS)
def test_discovery_reports_out_of_range_keywords_with_path_and_line(tmp_path, keyword):
    maximum = taskdef.INT_MAXIMUM[taskdef.FIELDS_BY_KEYWORD[keyword].wire]
    folder = tmp_path / "big"
    folder.mkdir()
    (folder / "big.py").write_text(task_source("big", **{keyword: maximum + 1}))
    found = discover(tmp_path)
    assert found.valid_tasks == []
    [issue] = found.errors
    assert issue.line == 4 and "must be <=" in issue.message


@pytest.mark.server
@pytest.mark.parametrize("keyword", INT_KEYWORDS)
def test_upload_with_one_out_of_range_task_writes_nothing(project, prefix, client, capsys, keyword):
    maximum = taskdef.INT_MAXIMUM[taskdef.FIELDS_BY_KEYWORD[keyword].wire]
    good = [f"{prefix}a_good", f"{prefix}z_good"]  # sorted before and after the bad one
    for name in good:
        project.write_task(name, task_source(name, retry_count=1))
    bad = f"{prefix}m_bad"
    project.write_task(bad, task_source(bad, **{keyword: maximum + 1}))

    for argv in (["--all"], [*good, bad]):
        result = run_cli(capsys, "--json", "tasks", "upload", *argv)
        assert result.code == 1, result.err
        assert "internal error" not in result.err + result.out
        assert result.json["error"]["type"] == "InvalidDefinitions"
        assert "must be <=" in result.err
    on_server = {d["name"] for d in client.list_taskdefs()}
    assert on_server.isdisjoint([*good, bad])


@pytest.mark.server
def test_the_maxima_are_what_the_server_accepts(project, prefix, client, capsys):
    name = prefix + "maxed"
    values = {k: taskdef.INT_MAXIMUM[taskdef.FIELDS_BY_KEYWORD[k].wire] for k in INT_KEYWORDS}
    project.write_task(name, task_source(name, **values))
    result = run_cli(capsys, "--json", "tasks", "upload", name)
    assert result.code == 0, result.out + result.err
    server = client.get_taskdef(name)
    assert {f: server[f] for f in INT_FIELDS} == {f: taskdef.INT_MAXIMUM[f] for f in INT_FIELDS}
