"""Everyday output (issue 18) and safe output (issue 17), through the CLI against the real server:
diff as terraform shows a plan, upload as kubectl apply reports, `tasks show`, `tasks list`
with usage and --wide, purge and history messages, and no terminal control character from a
foreign name ever reaching the terminal."""
from __future__ import annotations

import json
import shutil

import pytest

from tests.clihelp import run_cli, task_source
from tests.gitrepo import git, init_repo

pytestmark = pytest.mark.server

ESC = "\x1b"
# Erase the line, move the cursor up, set the window title, hide text: what a hostile name can do.
HOSTILE = "\x1b[2K\x1b[1A\x1b[2K\x1b]0;pwned\x07\x1b[8m[green]x"


def write(project, name, **keywords):
    project.write_task(name, task_source(name, **keywords))


def flat(text: str) -> str:
    return " ".join(text.split())


# ---- tasks diff --------------------------------------------------------------------------------
def test_diff_shows_json_values_and_every_field_of_a_new_definition(project, prefix, capsys):
    changed, new = prefix + "changed", prefix + "new"
    write(project, changed, timeout_policy="TIME_OUT_WF", retry_count=1)
    assert run_cli(capsys, "tasks", "upload", changed).code == 0
    write(project, changed, timeout_policy="ALERT_ONLY", retry_count=3)
    write(project, new, retry_count=7, timeout_seconds=600)
    diff = run_cli(capsys, "tasks", "diff")
    assert diff.code == 4, diff.err
    assert 'timeoutPolicy: "TIME_OUT_WF" -> "ALERT_ONLY"' in diff.out and "retryCount: 1 -> 3" in diff.out
    assert "'ALERT_ONLY'" not in diff.out and "'TIME_OUT_WF'" not in diff.out
    block = diff.out[diff.out.index(f"+ {new}"):]
    for line in ("retryCount: 7", "timeoutSeconds: 600", 'timeoutPolicy: "TIME_OUT_WF"', 'retryLogic: "FIXED"'):
        assert line in block, block


def test_orphans_are_drift_in_a_full_diff_but_not_in_a_named_one(project, prefix, capsys):
    kept, gone = prefix + "kept", prefix + "gone"
    write(project, kept)
    write(project, gone)
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    assert run_cli(capsys, "tasks", "diff").code == 0
    shutil.rmtree(project.tasks_dir / gone)
    full = run_cli(capsys, "tasks", "diff")
    assert full.code == 4 and f"- {gone}" in full.out
    assert "Drift: 1 orphaned" in full.out and "task file gone" in full.out and "purge --orphaned" in full.out
    doc = run_cli(capsys, "tasks", "diff", "--json")
    assert doc.code == 4 and doc.json["drift"] is True and doc.json["counts"]["orphaned"] == 1
    named = run_cli(capsys, "tasks", "diff", kept)
    assert named.code == 0 and gone not in named.out


# ---- tasks upload ------------------------------------------------------------------------------
def test_upload_shows_its_plan_first_then_one_line_per_definition(project, prefix, capsys):
    same, changed, new = prefix + "same", prefix + "changed", prefix + "new"
    write(project, same)
    write(project, changed, timeout_policy="TIME_OUT_WF")
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    write(project, changed, timeout_policy="ALERT_ONLY")
    write(project, new, retry_count=2)
    result = run_cli(capsys, "tasks", "upload", "--all")
    assert result.code == 0, result.err
    assert "about to write" in result.err and f"~ {changed}" in result.err and f"+ {new}" in result.err
    assert 'timeoutPolicy: "TIME_OUT_WF" -> "ALERT_ONLY"' in result.err and "retryCount: 2" in result.err
    lines = result.out.splitlines()
    assert f"created {new}" in lines
    assert f'updated {changed}: timeoutPolicy "TIME_OUT_WF" -> "ALERT_ONLY"' in lines
    assert "unchanged 1" in lines and same not in result.out
    write(project, changed, timeout_policy="RETRY")
    quiet = run_cli(capsys, "tasks", "upload", "--all", "--json")  # --json: one document, no preview
    assert quiet.code == 0 and quiet.json["updated"] == [changed] and "about to write" not in quiet.err


# ---- tasks show --------------------------------------------------------------------------------
def test_show_gives_local_server_difference_provenance_and_usage(project, prefix, client, capsys):
    name, wf = prefix + "shown", prefix + "wf"
    write(project, name, retry_count=1)
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    write(project, name, retry_count=4)
    client.upsert_workflows([{"name": wf, "version": 1, "schemaVersion": 2,
                              "tasks": [{"name": name, "taskReferenceName": "r", "type": "SIMPLE"}]}])
    text = run_cli(capsys, "tasks", "show", name)
    assert text.code == 0, text.err
    assert "changed" in text.out and "retryCount: 1 -> 4" in text.out
    assert f"idflow/tasks/{name}/{name}.py" in text.out and "provenance" in text.out and "no-git" in text.out
    assert f"{wf} v1 tasks[0]" in text.out
    doc = run_cli(capsys, "tasks", "show", name, "--json").json
    assert doc["status"] == "update" and doc["local"]["retryCount"] == 4 and doc["server"]["retryCount"] == 1
    assert doc["changes"] == [{"field": "retryCount", "old": 1, "new": 4}]
    assert doc["provenance"]["path"] == f"idflow/tasks/{name}/{name}.py"
    assert doc["usage"]["verdict"] == "used" and doc["usage"]["uses"][0]["workflow"] == wf


def test_show_of_a_name_neither_local_nor_remote_exits_1(project, prefix, capsys):
    result = run_cli(capsys, "tasks", "show", prefix + "nowhere", "--json")
    assert result.code == 1 and result.json["error"]["type"] == "NoSuchTask"


def test_show_of_a_server_only_definition(project, prefix, client, capsys):
    name = prefix + "theirs"
    client.upsert_taskdefs([{"name": name, "retryCount": 2, "timeoutSeconds": 60, "responseTimeoutSeconds": 10}])
    result = run_cli(capsys, "tasks", "show", name)
    assert result.code == 0 and "foreign" in result.out and "no task file" in result.out
    assert "not uploaded by idflow" in result.out and "retryCount: 2" in result.out


# ---- tasks list --------------------------------------------------------------------------------
def test_list_remote_counts_usage_and_shows_managed_in_colour_not_markup(project, prefix, client, capsys):
    used, unused = prefix + "used", prefix + "unused"
    write(project, used)
    write(project, unused)
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    for version in (1, 2):
        client.upsert_workflows([{"name": prefix + "wf", "version": version, "schemaVersion": 2,
                                  "tasks": [{"name": used, "taskReferenceName": "r", "type": "SIMPLE"}]}])
    doc = run_cli(capsys, "tasks", "list", "--remote", "--json").json
    assert doc["usage"][used] == 1 and doc["usage"][unused] == 0  # two versions of one workflow: one workflow
    text = run_cli(capsys, "tasks", "list", "--remote")
    assert "[green]" not in text.out and "[/]" not in text.out
    row = next(line for line in text.out.splitlines() if used in line)
    assert "idflow" in row and row.split()[-2] == "1"
    wide = run_cli(capsys, "tasks", "list", "--remote", "--wide")
    assert "retry logic" in wide.out and "no-git" in wide.out
    sync_wide = run_cli(capsys, "tasks", "list", "--wide")
    assert "uses" in sync_wide.out and "local source" in sync_wide.out


# ---- purge messages ----------------------------------------------------------------------------
def test_purge_without_a_tasks_dir_says_the_dir_is_missing(project, prefix, capsys):
    shutil.rmtree(project.tasks_dir)
    result = run_cli(capsys, "tasks", "purge", "--orphaned", "--dry-run")
    message = flat(result.err)
    assert result.code == 3 and "does not exist" in message and "tasks dir" in message
    assert "failed to parse" not in message


# ---- terminal control characters in foreign names --------------------------------------------
@pytest.fixture
def hostile(project, prefix, client):
    """A foreign definition whose name holds ANSI and OSC escapes (the server stores it as is)."""
    name = prefix + HOSTILE
    client.upsert_taskdefs([{"name": name, "description": "evil \x1b[31mred\x1b[0m",
                             "retryCount": 0, "timeoutSeconds": 60, "responseTimeoutSeconds": 10}])
    assert name in {d["name"] for d in client.list_taskdefs()}
    return name


@pytest.mark.parametrize("argv", [
    ("tasks", "list"), ("tasks", "list", "--remote"), ("tasks", "list", "--remote", "--wide"),
    ("tasks", "list", "--wide"), ("tasks", "diff"), ("tasks", "diff", "-v"), ("tasks", "show", "{name}"),
    ("tasks", "purge", "{name}"), ("tasks", "purge", "{name}", "--dry-run"),
    ("tasks", "purge", "--orphaned", "--include-foreign", "--dry-run"),
])
def test_no_escape_character_reaches_the_terminal(hostile, capsys, argv):
    result = run_cli(capsys, *(a.replace("{name}", hostile) for a in argv))
    assert result.code in (0, 3, 4), result.err
    assert ESC not in result.out and ESC not in result.err
    shown = "\\x1b[2K" in result.out + result.err  # shown, visibly, rather than dropped
    # A plain diff lists 30 foreign definitions, then counts the rest: on a busy server it may be counted.
    counted = argv == ("tasks", "diff") and "foreign (-v lists them)" in result.out
    assert shown or counted, result.out + result.err


def test_the_purge_plan_above_the_prompt_cannot_be_erased(hostile, prefix, project, capsys):
    """Without a terminal the purge refuses after the plan; the plan must name the hostile definition
    visibly, and nothing in it may move the cursor up over the lines before it."""
    result = run_cli(capsys, "tasks", "purge", hostile)
    assert result.code == 3 and "-y" in result.err
    plan_line = next(line for line in result.err.splitlines() if line.startswith("- delete"))
    assert prefix in plan_line and "\\x1b[1A" in plan_line and ESC not in result.err


def test_history_separates_labels_from_subjects_and_neutralises_them(project, prefix, capsys):
    name = prefix + "hist"
    init_repo(project.root)
    git(project.root, "config", "user.name", "Dev \x1b[2K")
    write(project, name, retry_count=1)
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "first \x1b[1A\x1b[2K matches the server")
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    result = run_cli(capsys, "tasks", "history", name)
    assert result.code == 0, result.err
    assert ESC not in result.out + result.err
    lines = result.out.splitlines()
    subject = next(line for line in lines if "subject:" in line)
    server = next(line for line in lines if line.strip().startswith("server:"))
    assert subject.strip() == "subject: first \\x1b[1A\\x1b[2K matches the server"
    assert "stamped with this commit" in server and "first" not in server
