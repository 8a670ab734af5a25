"""Bad input from every side: config files, task files and server responses.

Each one ends in a clear error (exit 1, the file and line or the request named) or is
handled, never in a traceback, and nothing is written to the server. The inputs live in
tests/corpus/: config/*.yml (first line `# expect: LINE | FRAGMENT`), tasks/ (shared with
test_discovery.py, which checks what discovery says about each file) and responses/
(bodies the fault proxy serves instead of the server's).
"""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from tests.clihelp import run_cli, task_source

CORPUS = Path(__file__).parent / "corpus"
TASKDEFS = "/api/metadata/taskdefs"
GOOD_SOURCE = """from idflow import worker_task


@worker_task(task_definition_name={name!r})
def good(task_input):
    return {{}}
"""


def writes(proxy) -> list[str]:
    return [f"{r.method} {r.path}" for r in proxy.requests if r.method != "GET"]


def no_traceback(result, argv=()) -> None:
    """No crash; a traceback only where -v asks for one."""
    assert "internal error" not in result.err, result.err
    if "-v" not in argv:
        assert "Traceback" not in result.err, result.err


# ---- config files ---------------------------------------------------------------------------
def config_cases():
    for path in sorted((CORPUS / "config").glob("*.yml")):
        header = path.read_bytes().split(b"\n", 1)[0].decode("ascii")
        line, fragment = header.removeprefix("# expect: ").split(" | ", 1)
        yield pytest.param(path, None if line == "-" else int(line), fragment, id=path.stem)


@pytest.mark.parametrize("path, line, fragment", list(config_cases()))
def test_bad_config_names_file_key_and_line(tmp_path, monkeypatch, capsys, path, line, fragment):
    monkeypatch.chdir(tmp_path)
    for name in ("IDFLOW_CONFIG", "CONDUCTOR_SERVER_URL", "IDFLOW_TASKS_DIR"):
        monkeypatch.delenv(name, raising=False)
    target = tmp_path / "config" / "idflow.yml"
    target.parent.mkdir()
    shutil.copyfile(path, target)
    where = "config/idflow.yml" + (f":{line}:" if line is not None else "")
    for argv in (["tasks", "list", "--local", "--json"], ["--json", "doctor"], ["tasks", "upload", "--all"]):
        result = run_cli(capsys, *argv)
        assert result.code == 1, (argv, result.out, result.err)
        no_traceback(result)
        if argv[-1] == "doctor":
            check = result.json["checks"][0]
            assert check["name"] == "config" and not check["ok"]
            message = check["detail"]
        elif "--json" in argv:
            assert result.json["error"]["type"] == "ConfigError"
            message = result.json["error"]["message"]
        else:
            message = " ".join(result.err.split())  # rich wraps long lines
        assert where in message and fragment in message, message
    # The same file named with --config is reported under that name.
    explicit = run_cli(capsys, "--config", str(path), "tasks", "list", "--local", "--json")
    assert explicit.code == 1 and str(path) in explicit.json["error"]["message"]


def test_config_corpus_covers_types_keys_and_values():
    names = {p.stem for p in (CORPUS / "config").glob("*.yml")}
    assert len(names) >= 20 and {"unknown_key", "string_for_int", "zero_batch_size", "not_utf8"} <= names


# ---- task files -------------------------------------------------------------------------------------
TASK_CASES = [  # (corpus dirs copied in, file or dir reported, line, fragment)
    (["syntax_error"], "syntax_error/syntax_error.py", 4, "syntax error"),
    (["undecodable"], "undecodable/undecodable.py", 3, "not valid utf-8"),
    (["computed_value"], "computed_value/computed_value.py", 9, "cannot be read"),
    (["unknown_keyword"], "unknown_keyword/unknown_keyword.py", 4, "unknown keyword 'retry_cnt'"),
    (["wrong_type"], "wrong_type/wrong_type.py", 4, "retry_count must be a whole number"),
    (["duplicate_a", "duplicate_b"], "duplicate_b/duplicate_b.py", 4, "is defined twice"),
    (["empty_dir"], "empty_dir", 0, "has no @worker_task function"),
    (["deep_nesting"], "deep_nesting/deep_nesting.py", 0, "nested too deeply"),
    (["not_a_file"], "not_a_file/not_a_file.py", 0, "is a directory named like a Python file"),
    (["invalid_def"], "invalid_def/invalid_def.py", 4, "responseTimeoutSeconds (600) must be <= timeoutSeconds"),
]


@pytest.mark.server
@pytest.mark.parametrize("dirs, where, line, fragment", TASK_CASES, ids=[c[0][0] for c in TASK_CASES])
def test_one_bad_task_file_blocks_every_write(project, prefix, client, capsys, fault_proxy, dirs, where, line,
                                              fragment):
    good = prefix + "good"
    project.write_task(good, GOOD_SOURCE.format(name=good))
    for name in dirs:
        shutil.copytree(CORPUS / "tasks" / name, project.tasks_dir / name)
    shown = f"idflow/tasks/{where}" + (f":{line}" if line else "")
    proxy = fault_proxy()
    as_json = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    assert as_json.code == 1 and as_json.json["error"]["type"] == "InvalidDefinitions"
    issues = as_json.json["error"]["issues"]
    assert any(i["path"] == f"idflow/tasks/{where}" and i["line"] == line and fragment in i["message"]
               for i in issues), issues
    plain = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all")
    synced = run_cli(capsys, "--server-url", proxy.url, "tasks", "sync", "--prune", "-y")
    for result in (as_json, plain, synced):
        assert result.code == 1
        no_traceback(result)
        text = " ".join(result.err.split())
        assert shown in text and fragment in text and "nothing was written" in text, result.err
    assert writes(proxy) == [] and proxy.count() == 0  # validation ran before any request
    assert good not in {d["name"] for d in client.list_taskdefs()}  # not even the good task
    named = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", good, "--json")
    assert named.code == 0 and named.json["created"] == [good]  # naming only valid tasks works


@pytest.mark.server
def test_a_description_holding_the_provenance_marker_is_invalid(project, prefix, client, capsys):
    """Upload would cut the description at the marker: refuse it, with the file and line."""
    bad, good = prefix + "marked", prefix + "good"
    project.write_task(good, GOOD_SOURCE.format(name=good))
    project.write_task(bad, task_source(bad, description="Mine.\n\n[idflow] also mine"))
    result = run_cli(capsys, "tasks", "upload", "--all", "--json")
    assert result.code == 1
    (issue,) = result.json["error"]["issues"]
    assert (issue["path"], issue["line"]) == (f"idflow/tasks/{bad}/{bad}.py", 4)
    assert "provenance trailer" in issue["message"]
    assert {good, bad}.isdisjoint(d["name"] for d in client.list_taskdefs())


# ---- server responses ------------------------------------------------------------------------------
ERRORS = {  # corpus file -> what the error says; every command fails with it
    "html_page.html": "not a JSON list of objects",
    "html_labelled_json.txt": "not valid JSON",
    "empty_body.txt": "not a JSON list of objects",
    "object_not_list.json": "not a JSON list of objects",
    "list_of_scalars.json": "not a JSON list of objects",
    "list_of_lists.json": "not a JSON list of objects",
    "json_string.json": "not a JSON list of objects",
    "nan.json": "not a JSON list of objects",
    "latin1_bytes.json": "not valid JSON",
    "deeply_nested.json": "not valid JSON",
    "no_name.json": "item 0 has no name",
    "null_name.json": "item 0 has no name",
    "number_name.json": "item 0 has no name",
    "description_not_string.json": "has a description that is not a string",
}
HANDLED = ("missing_fields.json", "all_nulls.json", "odd_foreign.json")
COMMANDS = (("tasks", "list", "--sync", "--json"), ("tasks", "list", "--remote", "-v"), ("tasks", "diff", "-v"),
            ("tasks", "upload", "--all", "--json"), ("tasks", "purge", "--orphaned", "-y", "--json"),
            ("tasks", "backup", "--json"))


def body_of(name: str, good: str, prefix: str) -> tuple[bytes, str]:
    path = CORPUS / "responses" / name
    body = path.read_bytes().replace(b"__GOOD__", good.encode()).replace(b"__PREFIX__", prefix.encode())
    return body, "text/html" if path.suffix == ".html" else "application/json"


def serve_list(proxy, body: bytes, content_type: str, status: int = 200) -> None:
    proxy.add_rule(method="GET", path=TASKDEFS, action="status", status=status, body=body,
                   content_type=content_type)


def test_response_corpus_is_all_used():
    used = set(ERRORS) | set(HANDLED) | {"validation_errors_not_a_list.json", "validation_errors_odd_items.json"}
    assert {p.name for p in (CORPUS / "responses").iterdir()} == used


@pytest.mark.server
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_a_malformed_list_is_a_clear_error_and_nothing_is_written(project, prefix, capsys, fault_proxy, name):
    good = prefix + "good"
    project.write_task(good, GOOD_SOURCE.format(name=good))
    proxy = fault_proxy()
    serve_list(proxy, *body_of(name, good, prefix))
    for argv in COMMANDS:
        result = run_cli(capsys, "--server-url", proxy.url, *argv)
        assert result.code == 1, (argv, result.out, result.err)
        no_traceback(result, argv)
        assert ERRORS[name] in " ".join(result.err.split()), (argv, result.err)
        if "--json" in argv:
            assert ERRORS[name] in result.json["error"]["message"]
    assert writes(proxy) == [] and not (project.root / ".idflow" / "backups").exists()
    assert proxy.count("GET", TASKDEFS) == len(COMMANDS)  # none retried: the answer will not improve


@pytest.mark.server
@pytest.mark.parametrize("name", HANDLED)
def test_odd_but_usable_definitions_are_handled(project, prefix, capsys, fault_proxy, name):
    """Missing fields and nulls mean the server's defaults; odd foreign definitions are shown
    and left alone. The good task is in sync with what is served, so nothing is written."""
    good = prefix + "good"
    project.write_task(good, GOOD_SOURCE.format(name=good))
    proxy = fault_proxy()
    body, content_type = body_of(name, good, prefix)
    serve_list(proxy, body, content_type)
    served = {d["name"] for d in json.loads(body)}
    for argv in COMMANDS:
        result = run_cli(capsys, "--server-url", proxy.url, *argv)
        assert result.code == 0, (argv, result.out, result.err)
        no_traceback(result, argv)
    sync = run_cli(capsys, "--server-url", proxy.url, "tasks", "list", "--sync", "--json").json
    assert sync["in_sync"] == [good] and set(sync["foreign"]) == served - {good} and sync["orphaned"] == []
    upload = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json").json
    assert upload["unchanged"] == [good] and upload["created"] == upload["updated"] == []
    purge = run_cli(capsys, "--server-url", proxy.url, "tasks", "purge", "--orphaned", "-y", "--json").json
    assert purge["deleted"] == [] and {s["name"] for s in purge["skipped"]} == served - {good}
    assert writes(proxy) == []


@pytest.mark.server
@pytest.mark.parametrize("status, name, fragment", [
    (500, "deeply_nested.json", "server error 500"),
    (404, "html_page.html", "not found"),
    (401, "latin1_bytes.json", "not authenticated"),
    (400, "validation_errors_not_a_list.json", "Validation failed"),
])
def test_error_statuses_with_odd_bodies(project, prefix, capsys, fault_proxy, status, name, fragment):
    good = prefix + "good"
    project.write_task(good, GOOD_SOURCE.format(name=good))
    proxy = fault_proxy()
    serve_list(proxy, *body_of(name, good, prefix), status=status)
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    assert result.code == 1 and fragment in result.json["error"]["message"]
    assert len(result.json["error"]["message"]) < 700  # a huge body is cut, not echoed whole
    no_traceback(result)
    assert writes(proxy) == []


@pytest.mark.server
@pytest.mark.parametrize("name", ["validation_errors_not_a_list.json", "validation_errors_odd_items.json"])
def test_odd_validation_errors_on_write(project, prefix, client, capsys, fault_proxy, name):
    good = prefix + "good"
    project.write_task(good, GOOD_SOURCE.format(name=good))
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path=TASKDEFS, action="status", status=400, body=body_of(name, good, prefix)[0])
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    assert result.code == 1
    no_traceback(result)
    (failure,) = result.json["failed"]
    assert failure["name"] == good and all(isinstance(e, str) and e for e in failure["errors"])
    assert good not in {d["name"] for d in client.list_taskdefs()}


@pytest.mark.server
def test_an_enormous_list_is_handled_in_bounded_time(project, prefix, capsys, fault_proxy):
    """20 MB of definitions (64,000 of them): one read, a plan, nothing to write."""
    good = prefix + "good"
    project.write_task(good, GOOD_SOURCE.format(name=good))
    filler = "x" * 200
    defs = [{"name": good}] + [{"name": f"{prefix}big{i:06d}", "description": filler, "retryCount": 3,
                                "timeoutSeconds": 60, "responseTimeoutSeconds": 30} for i in range(64_000)]
    body = json.dumps(defs).encode()
    assert len(body) > 20_000_000
    proxy = fault_proxy()
    serve_list(proxy, body, "application/json")
    started = time.monotonic()
    upload = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    diff = run_cli(capsys, "--server-url", proxy.url, "tasks", "diff", good, "--json")
    elapsed = time.monotonic() - started
    assert upload.code == 0 and upload.json["unchanged"] == [good] and upload.json["created"] == []
    assert diff.code == 0 and [i["action"] for i in diff.json["items"]] == ["unchanged"]
    assert writes(proxy) == [] and elapsed < 30, elapsed


@pytest.mark.server
def test_an_enormous_garbage_body_is_a_clear_error(project, prefix, capsys, fault_proxy):
    good = prefix + "good"
    project.write_task(good, GOOD_SOURCE.format(name=good))
    proxy = fault_proxy()
    serve_list(proxy, b"[" + b"x" * 20_000_000, "application/json")
    result = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    assert result.code == 1 and "not valid JSON" in result.json["error"]["message"]
    assert writes(proxy) == []
