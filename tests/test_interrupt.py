"""Ctrl-C and SIGTERM mid-operation: stop between requests, print the exact account, exit 128+signal.

`idflow` runs in a subprocess against the real server, through the fault proxy, which
slows each write down so the signal lands in the middle. The test waits for the proxy
to have seen the first writes (a condition, polled with a deadline), then signals.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.clihelp import task_source

pytestmark = pytest.mark.server

COUNT = 24
CONCURRENCY = 8   # idflow.taskdefs.purge.DELETE_CONCURRENCY: deletes already in flight when the signal comes


def start(project, *argv):
    return subprocess.Popen([sys.executable, "-P", "-m", "idflow.cli", *argv], cwd=project.root, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "NO_COLOR": "1"})


def wait_until(proc, condition, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"idflow ended ({proc.returncode}) before {what}:\n{out}\n{err}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def configure(project, proxy, **values):
    lines = [line for line in project.config_path.read_text().splitlines()
             if not line.startswith(("conductor_server_url", *values))]
    lines += [f"conductor_server_url: {proxy.url}"] + [f"{k}: {v}" for k, v in values.items()]
    project.config_path.write_text("\n".join(lines) + "\n")


def names_on(client, prefix):
    return {d["name"] for d in client.list_taskdefs() if d["name"].startswith(prefix)}


def upload_all(project, prefix):
    from idflow.cli.app import main

    names = [f"{prefix}t{i:02d}" for i in range(COUNT)]
    for name in names:
        project.write_task(name, task_source(name))
    assert main(["tasks", "upload", "--all"]) == 0
    return names


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_purge_stops_the_deletes_and_prints_the_account(project, prefix, client, fault_proxy, sig):
    names = upload_all(project, prefix)
    for name in names:
        shutil.rmtree(project.tasks_dir / name)
    proxy = fault_proxy()
    proxy.add_rule(method="DELETE", path="/api/metadata/taskdefs/", action="delay", delay=0.4)
    configure(project, proxy)
    proc = start(project, "--json", "tasks", "purge", "--orphaned", "-y")
    wait_until(proc, lambda: proxy.count("DELETE") >= 2, "the first deletes")
    at_signal = proxy.count("DELETE")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    doc = json.loads(out)                       # the one document on stdout: the account
    assert sorted(doc["deleted"] + doc["not_attempted"] + [f["name"] for f in doc["failed"]]
                  + [f["name"] for f in doc["unknown"]]) == names
    assert doc["not_attempted"] and doc["failed"] == [] and doc["unknown"] == []
    assert proxy.count("DELETE") <= at_signal + CONCURRENCY   # only the deletes already in flight
    held = names_on(client, prefix)
    assert held == set(doc["not_attempted"])    # the account is what the server holds


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_upload_stops_between_batches(project, prefix, client, fault_proxy, sig):
    names = [f"{prefix}t{i:02d}" for i in range(COUNT)]
    for name in names:
        project.write_task(name, task_source(name))
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path="/api/metadata/taskdefs", action="delay", delay=0.3)
    configure(project, proxy, batch_size=2)
    proc = start(project, "--json", "tasks", "upload", "--all")
    wait_until(proc, lambda: proxy.count("POST") >= 2, "the first batches")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + sig, err
    doc = json.loads(out)
    assert doc["interrupted"] is True and doc["not_attempted"] and doc["failed"] == []
    assert sorted(doc["created"] + doc["not_attempted"]) == names
    assert names_on(client, prefix) == set(doc["created"])
    assert proxy.count("POST") == len(doc["created"]) // 2


def test_a_signal_during_restore_accounts_for_every_definition(project, prefix, client, fault_proxy):
    from idflow.cli.app import main

    names = upload_all(project, prefix)
    assert main(["tasks", "backup", "--out", str(project.root / "snap.json")]) == 0
    for name in names:
        client.delete_taskdef(name)
    proxy = fault_proxy()
    proxy.add_rule(method="POST", path="/api/metadata/taskdefs", action="delay", delay=0.3)
    configure(project, proxy, batch_size=2)
    proc = start(project, "--json", "tasks", "restore", "snap.json", *names, "-y")
    wait_until(proc, lambda: proxy.count("POST") >= 2, "the first batches")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    doc = json.loads(out)
    assert doc["interrupted"] is True and doc["not_attempted"]
    assert sorted(doc["restored"] + doc["not_attempted"]) == names
    assert names_on(client, prefix) == set(doc["restored"])


def test_a_signal_before_any_write_stops_at_once_with_nothing_written(project, prefix, client, fault_proxy):
    names = [f"{prefix}t{i:02d}" for i in range(3)]
    for name in names:
        project.write_task(name, task_source(name))
    proxy = fault_proxy()
    proxy.add_rule(method="GET", path="/api/metadata/taskdefs", action="delay", delay=3.0)
    configure(project, proxy)
    proc = start(project, "--json", "tasks", "upload", "--all")
    wait_until(proc, lambda: proxy.count("GET") >= 1, "the read of the server")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert json.loads(out)["error"]["type"] == "Interrupted"
    assert proxy.count("POST") == 0 and names_on(client, prefix) == set()
