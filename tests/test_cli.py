"""The CLI's own behaviour: doctor, remote listing, sync, backups, exit codes, JSON."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from idflow.provenance.trailer import parse_provenance
from tests.clihelp import run_cli, task_source


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_version_and_usage_errors(capsys):
    assert run_cli(capsys, "--version").out.startswith("idflow ")
    assert run_cli(capsys, "tasks", "list", "--no-such-flag").code == 2
    assert run_cli(capsys, "tasks", "upload").code == 2          # neither names nor --all
    assert run_cli(capsys, "tasks", "purge", "x", "--orphaned").code == 2


def test_doctor_against_a_stopped_server_fails_fast_and_says_how_to_start_one(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CONDUCTOR_SERVER_URL", raising=False)
    started = time.monotonic()
    result = run_cli(capsys, "--server-url", f"http://127.0.0.1:{closed_port()}", "doctor", "--json")
    elapsed = time.monotonic() - started
    assert result.code == 1 and elapsed < 5
    checks = {c["name"]: c for c in result.json["checks"]}
    assert checks["server"]["ok"] is False and "scripts/conductor-server.sh start" in checks["server"]["fix"]
    assert checks["tasks dir"]["ok"] is False


@pytest.mark.server
def test_doctor_passes_on_a_healthy_project_and_names_the_config_form(project, capsys):
    result = run_cli(capsys, "doctor")
    assert result.code == 0, result.out
    assert "read as flat keys" in result.out and "Conductor 3." in result.out
    project.config_path.write_text(f"conductor:\n  server_url: {project.config_path.read_text().split()[1]}\n")
    assert "ID Flow nested keys" in run_cli(capsys, "doctor").out


def test_help_does_not_import_prefect():
    code = "import sys, idflow.cli.app; sys.exit(any(m.startswith('prefect') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-P", "-c", code]).returncode == 0


@pytest.mark.server
def test_list_remote_json_and_verbose_provenance(project, prefix, capsys):
    name = prefix + "r"
    project.write_task(name, task_source(name, retry_count=2))
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    remote = run_cli(capsys, "tasks", "list", "--remote", "--json").json["remote"]
    mine = next(d for d in remote if d["name"] == name)
    assert mine["retryCount"] == 2 and parse_provenance(mine["description"]) is not None
    verbose = run_cli(capsys, "tasks", "list", "--remote", "--verbose")
    assert verbose.code == 0 and f"idflow/tasks/{name}/{name}.py" in verbose.out and "no-git" in verbose.out


@pytest.mark.server
def test_list_sync_json_has_every_category(project, prefix, client, capsys):
    local, both = prefix + "local", prefix + "both"
    project.write_task(both, task_source(both))
    assert run_cli(capsys, "tasks", "upload", both).code == 0
    project.write_task(local, task_source(local))
    doc = run_cli(capsys, "tasks", "list", "--json").json
    assert set(doc) >= {"local", "remote", "common", "in_sync", "changed", "local_only", "remote_only",
                        "orphaned", "foreign"}
    assert local in doc["local_only"] and both in doc["in_sync"] and both in doc["common"]


@pytest.mark.server
def test_sync_uploads_and_prunes_only_with_prune(project, prefix, client, capsys):
    keep, gone = prefix + "keep", prefix + "gone"
    project.write_task(keep, task_source(keep))
    project.write_task(gone, task_source(gone))
    assert run_cli(capsys, "tasks", "sync", "-y").code == 0
    import shutil
    shutil.rmtree(project.tasks_dir / gone)
    no_prune = run_cli(capsys, "tasks", "sync", "-y", "--json")
    assert no_prune.code == 0 and "purge" not in no_prune.json and client.get_taskdef(gone)
    dry = run_cli(capsys, "tasks", "sync", "--prune", "--dry-run", "--json")
    assert dry.json["purge"]["would_delete"] == [gone] and client.get_taskdef(gone)
    refused = run_cli(capsys, "tasks", "sync", "--prune")  # no terminal, no -y
    assert refused.code == 3 and client.get_taskdef(gone)
    pruned = run_cli(capsys, "tasks", "sync", "--prune", "-y", "--json")
    assert pruned.code == 0 and pruned.json["purge"]["deleted"] == [gone]
    assert gone not in {d["name"] for d in client.list_taskdefs()} and client.get_taskdef(keep)


@pytest.mark.server
def test_backup_snapshot_lists_and_restores(project, prefix, client, capsys, tmp_path):
    name = prefix + "b"
    project.write_task(name, task_source(name, retry_count=4))
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    snapshot = tmp_path / "snap.json"
    made = run_cli(capsys, "tasks", "backup", "--out", str(snapshot), "--json")
    assert made.code == 0 and name in {d["name"] for d in json.loads(snapshot.read_text())["taskdefs"]}
    run_cli(capsys, "tasks", "backup")
    listed = run_cli(capsys, "tasks", "backups", "--json").json["backups"]
    assert listed and listed[-1]["reason"] == "snapshot"
    client.upsert_taskdefs([dict(client.get_taskdef(name), retryCount=9)])
    restored = run_cli(capsys, "tasks", "restore", str(snapshot), name, "-y", "--json")
    assert restored.code == 0 and restored.json["restored"] == [name] and restored.json["backup"]
    assert client.get_taskdef(name)["retryCount"] == 4
    assert run_cli(capsys, "tasks", "restore", str(snapshot), "not-in-backup").code == 1
