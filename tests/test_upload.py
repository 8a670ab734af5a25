"""Upload, diff, list --sync and apply against the real Conductor server."""
from __future__ import annotations

import json

import pytest

from idflow.conductor.client import ConductorClient
from idflow.project.config import load_config
from idflow.usecases import Session, upload
from idflow.provenance.trailer import parse_provenance
from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server


def write(project, name, **kw):
    project.write_task(name, task_source(name, **kw))


def test_first_upload_creates_with_every_field_and_provenance(project, prefix, client, capsys):
    a, b = prefix + "alpha", prefix + "beta"
    write(project, a, retry_count=5, timeout_seconds=1200, timeout_policy="RETRY", retry_logic="LINEAR_BACKOFF",
          retry_delay_seconds=7, response_timeout_seconds=300, concurrent_exec_limit=4,
          rate_limit_frequency_in_seconds=60, rate_limit_per_frequency=100)
    write(project, b)
    result = run_cli(capsys, "tasks", "upload", "--all", "--json")
    assert result.code == 0, result.err
    assert sorted(result.json["created"]) == [a, b] and result.json["failed"] == []
    server = client.get_taskdef(a)
    assert (server["retryCount"], server["timeoutSeconds"], server["timeoutPolicy"], server["retryLogic"],
            server["retryDelaySeconds"], server["responseTimeoutSeconds"], server["concurrentExecLimit"],
            server["rateLimitFrequencyInSeconds"], server["rateLimitPerFrequency"]) == \
        (5, 1200, "RETRY", "LINEAR_BACKOFF", 7, 300, 4, 60, 100)
    stamp = parse_provenance(server["description"])
    assert stamp is not None and stamp.path.endswith(f"{a}/{a}.py")
    assert server["description"].startswith(f"Task {a} for tests.")


def test_noop_rerun_is_one_read_and_no_write(project, prefix):
    for i in range(3):
        write(project, f"{prefix}t{i}", retry_count=i)
    config = load_config()
    with ConductorClient(config.api_url) as first:
        upload(Session(config, lambda _c: first))
    with ConductorClient(config.api_url) as again:
        outcome = upload(Session(config, lambda _c: again))
        assert again.stats.reads == 1 and again.stats.writes == 0
    assert outcome.result.created == [] and outcome.result.updated == []
    assert sorted(outcome.to_json()["unchanged"]) == [f"{prefix}t{i}" for i in range(3)]


def test_one_changed_field_is_diffed_then_updated_alone(project, prefix, capsys):
    a, b = prefix + "a", prefix + "b"
    write(project, a, retry_count=1)
    write(project, b, retry_count=1)
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    assert run_cli(capsys, "tasks", "diff").code == 0
    write(project, a, retry_count=4)
    diff = run_cli(capsys, "tasks", "diff")
    assert diff.code == 4 and "retryCount" in diff.out and "1" in diff.out and "4" in diff.out
    status = run_cli(capsys, "tasks", "list", "--sync", "--json").json
    assert status["changed"] == [a] and status["in_sync"] == [b] and status["local_only"] == []
    result = run_cli(capsys, "tasks", "upload", "--all", "--json")
    assert result.json["updated"] == [a] and result.json["requests"] == {"POST": 1, "GET": 1}
    assert result.json["backup"] and json.load(open(result.json["backup"]))["taskdefs"][0]["retryCount"] == 1


def test_force_writes_unchanged_and_dry_run_writes_nothing(project, prefix, client, capsys):
    a = prefix + "a"
    write(project, a)
    dry = run_cli(capsys, "tasks", "upload", "--all", "--dry-run", "--json")
    assert dry.code == 0 and dry.json["would_create"] == [a]
    assert a not in {d["name"] for d in client.list_taskdefs()}
    assert run_cli(capsys, "tasks", "upload", a).code == 0
    unforced = run_cli(capsys, "tasks", "upload", a, "--json")
    assert unforced.json["unchanged"] == [a] and "POST" not in unforced.json["requests"]
    forced = run_cli(capsys, "tasks", "upload", a, "--force", "--json")
    assert forced.json["updated"] == [a] and forced.json["requests"]["POST"] == 1


def test_fields_set_by_others_survive_an_update(project, prefix, client, capsys):
    a = prefix + "a"
    write(project, a, retry_count=1)
    assert run_cli(capsys, "tasks", "upload", a).code == 0
    theirs = dict(client.get_taskdef(a), inputKeys=["order_id"], outputKeys=["total"], ownerEmail="team@example.org")
    client.upsert_taskdefs([theirs])
    write(project, a, retry_count=2)
    assert run_cli(capsys, "tasks", "upload", a).code == 0
    after = client.get_taskdef(a)
    assert after["retryCount"] == 2
    assert (after["inputKeys"], after["outputKeys"], after["ownerEmail"]) == (["order_id"], ["total"], "team@example.org")
    assert run_cli(capsys, "tasks", "diff").code == 0  # others' fields are not drift


def test_invalid_definitions_are_rejected_client_side_with_all_errors(project, prefix, client, capsys):
    good, bad = prefix + "good", prefix + "bad"
    write(project, good)
    write(project, bad, timeout_seconds=10, response_timeout_seconds=20, retry_logic="RANDOM")
    result = run_cli(capsys, "tasks", "upload", "--all")
    assert result.code == 1
    assert "responseTimeoutSeconds (20) must be <= timeoutSeconds (10)" in result.err
    assert "retryLogic 'RANDOM'" in result.err
    names = {d["name"] for d in client.list_taskdefs()}
    assert good not in names and bad not in names
    assert run_cli(capsys, "tasks", "upload", good).code == 0  # naming only valid tasks works
    assert run_cli(capsys, "tasks", "upload", bad).code == 1


def test_saved_plan_is_refused_after_a_concurrent_change(project, prefix, client, capsys, tmp_path):
    a = prefix + "a"
    write(project, a, retry_count=1)
    assert run_cli(capsys, "tasks", "upload", a).code == 0
    write(project, a, retry_count=2)
    plan_file = tmp_path / "plan.json"
    assert run_cli(capsys, "tasks", "diff", "--out", str(plan_file)).code == 4
    client.upsert_taskdefs([dict(client.get_taskdef(a), ownerEmail="someone@example.org")])
    refused = run_cli(capsys, "tasks", "apply", str(plan_file))
    assert refused.code == 3 and a in refused.err
    assert client.get_taskdef(a)["retryCount"] == 1
    assert run_cli(capsys, "tasks", "diff", "--out", str(plan_file)).code == 4
    applied = run_cli(capsys, "tasks", "apply", str(plan_file), "--json")
    assert applied.code == 0 and applied.json["updated"] == [a]
    assert client.get_taskdef(a)["retryCount"] == 2


@pytest.mark.parametrize("fault, reached_server", [("drop", False), ("reset", True)])
def test_connection_lost_mid_upload_is_reported_exactly_and_rerun_converges(project, prefix, client, capsys,
                                                                            fault_proxy, fault, reached_server):
    """drop: batch 2 never reaches the server; reset: it is written but the answer is lost."""
    names = [f"{prefix}n{i}" for i in range(5)]
    for name in names:
        write(project, name)
    project.config_path.write_text(project.config_path.read_text() + "batch_size: 2\nmax_retries: 1\n")
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path="/api/metadata/taskdefs", action="forward", times=1)
    proxy.add_rule(method="POST", path="/api/metadata/taskdefs", action=fault)
    broken = run_cli(capsys, "--server-url", proxy.url, "tasks", "upload", "--all", "--json")
    assert broken.code == 1
    doc = broken.json
    written = names[:4] if reached_server else names[:2]
    assert doc["created"] == written and doc["not_attempted"] == names[4:]
    assert [f["name"] for f in doc["failed"]] == ([] if reached_server else names[2:4])
    on_server = {d["name"] for d in client.list_taskdefs()}
    assert set(written) <= on_server and not (set(names) - set(written)) & on_server
    rerun = run_cli(capsys, "tasks", "upload", "--all", "--json")
    assert rerun.code == 0 and rerun.json["created"] == names[len(written):]
    assert sorted(rerun.json["unchanged"]) == written
    assert run_cli(capsys, "tasks", "diff").code == 0
