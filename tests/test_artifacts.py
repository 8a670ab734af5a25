"""The markdown the flows publish (pure functions), and the CLI staying Prefect-free."""
from __future__ import annotations

import subprocess
import sys

from idflow.flows import artifacts
from idflow.taskdefs.plan import make_plan
from idflow.provenance.trailer import Provenance, content_hash, stamp
from idflow.model import fields as taskdef


def plan_doc():
    ours = Provenance("a" * 40, False, "idflow/tasks/gone/gone.py", content_hash(taskdef.build("gone", {})), "t",
                      project="p")
    desired = [taskdef.build("new", {}), taskdef.build("changed", {"retry_count": 4}), taskdef.build("same", {})]
    actual = [taskdef.build("changed", {"retry_count": 1}), taskdef.build("same", {}),
              dict(taskdef.build("gone", {}), description=stamp("", ours)), taskdef.build("theirs", {})]
    return make_plan(desired, actual, sources={"new": "idflow/tasks/new/new.py:3"}, project="p",
                     server_url="http://user:pw@127.0.0.1:8080/api").to_json()


def rows(markdown):
    return {line.split("|")[1].strip(): line for line in markdown.splitlines()
            if line.startswith("| ") and not line.startswith("| Task")}


def test_plan_table_says_why_for_every_action():
    markdown = artifacts.plan_markdown(plan_doc(), dirty=["changed"])
    table = rows(markdown)
    assert "create" in table["new"] and "not on the server" in table["new"] and "new.py:3" in table["new"]
    assert "retryCount: 1 → 4" in table["changed"]
    assert "orphaned" in table["gone"] and "task file is gone" in table["gone"]
    assert "foreign" in table["theirs"] and "not uploaded by idflow" in table["theirs"]
    assert "same" not in table and "Unchanged: `same`" in markdown
    assert "**1 to create, 1 to update**" in markdown and "+dirty" in markdown
    assert "pw" not in markdown and "user" not in markdown  # no credentials from the URL


def test_cells_cannot_break_the_table():
    assert artifacts.cell("a|b\nc") == "a\\|b c"
    assert len(artifacts.cell("x" * 1000)) == artifacts.MAX_CELL
    assert artifacts.cell({"k": [1]}) == '{"k": [1]}'


def test_long_tables_are_cut_and_counted():
    markdown = artifacts.table(["Task"], [[f"t{i}"] for i in range(artifacts.MAX_ROWS + 5)])
    assert markdown.count("\n| t") == artifacts.MAX_ROWS and "and 5 more rows" in markdown


def test_upload_result_lists_outcomes_backup_and_failures():
    doc = {"created": ["a"], "updated": ["b"], "unchanged": ["c"], "not_attempted": ["d"], "dry_run": False,
           "failed": [{"name": "e", "errors": ["responseTimeoutSeconds must be <= timeoutSeconds"]}],
           "backup": ".idflow/backups/upload-1.json", "dirty": [], "provenance_missing": True,
           "verified": {"verified": ["a"], "mismatched": [{"name": "b", "errors": ["retryCount: server has 1"]}]}}
    markdown = artifacts.upload_result_markdown(doc)
    table = rows(markdown)
    assert "**FAILED**" in markdown and "created" in table["a"] and "not attempted" in table["d"]
    assert "responseTimeoutSeconds" in table["e"] and "verify failed" in table["b"]
    assert ".idflow/backups/upload-1.json" in markdown and "no commit" in markdown
    ok = artifacts.upload_result_markdown({"created": [], "updated": [], "unchanged": ["c"], "failed": []})
    assert "**OK**" in ok
    dry = artifacts.upload_result_markdown({"dry_run": True, "would_create": ["a"], "would_update": []})
    assert "nothing was written" in dry and "Would create 1" in dry


def test_purge_plan_and_result_say_what_stays_and_why():
    purge = {"delete": [{"name": "free", "reason": "orphaned", "forced_uses": [], "note": ""}],
             "skipped": [{"name": "used", "reason": "used by workflows (--force to delete anyway)",
                          "used_by": ["wf v1 tasks[0]"]}], "uncertain": []}
    table = rows(artifacts.purge_plan_markdown(purge))
    assert "delete" in table["free"] and "keep" in table["used"] and "wf v1 tasks[0]" in table["used"]
    result = artifacts.purge_result_markdown({"deleted": ["free"], "failed": [], "skipped": purge["skipped"],
                                              "backup": ".idflow/backups/purge-1.json"})
    assert "deleted" in rows(result)["free"] and "purge-1.json" in result
    assert "Nothing orphaned" in artifacts.purge_plan_markdown({"delete": [], "skipped": []})


def test_discovery_and_refusal_list_the_problems():
    doc = {"tasks_dir": "idflow/tasks", "tasks": [{"name": "a", "valid": True, "path": "a.py", "line": 4}],
           "errors": [{"path": "b.py", "line": 2, "message": "invalid syntax"}], "warnings": []}
    markdown = artifacts.discovery_markdown(doc)
    assert "| a | yes | a.py:4 |" in markdown and "| b.py:2 | invalid syntax |" in markdown
    refused = artifacts.refusal_markdown("refused", "uncommitted changes in task(s) a", "commit them first")
    assert "Nothing was changed" in refused and "commit them first" in refused


def test_the_cli_and_the_markdown_builders_never_import_prefect():
    code = ("import sys, idflow.cli.app, idflow.cli.prefect_bridge, idflow.flows.artifacts\n"
            "loaded = [m for m in sys.modules if m == 'prefect' or m.startswith('prefect.')]\n"
            "assert not loaded, loaded[:5]")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
