"""`idflow --json X --prefect` prints the document `idflow --json X` prints, plus `flow_run`.

Against a real Prefect server (the session's test server) and the real Conductor server.
Each pair runs on the same server state: read-only operations back to back, writing ones
after the server is put back as it was. Only what must differ is left out of the
comparison: timestamps, backup file names, and definitions other tests own on the
shared server.
"""
from __future__ import annotations

import copy
import shutil

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.clihelp import run_cli, task_source

pytestmark = [pytest.mark.prefect, pytest.mark.server]

# Putting the server back rewrites a definition, and a write resets its createTime (so the fingerprint
# `seen` of the copy changes too): those cannot match between the two runs.
VOLATILE = ("created_at", "at", "backup", "seen", "createTime", "updateTime")


def normalised(doc, prefix: str):
    """The document without volatile values, and without items that are not this test's."""
    doc = copy.deepcopy(doc)

    def walk(node):
        if isinstance(node, dict):
            for key in VOLATILE:
                node.pop(key, None)
            if isinstance(node.get("items"), list):
                node["items"] = [i for i in node["items"] if str(i.get("name", "")).startswith(prefix)]
            if isinstance(node.get("counts"), dict):
                node["counts"].pop("foreign", None)
            for key in ("skipped", "would_delete", "remote_only", "foreign"):
                if isinstance(node.get(key), list):
                    node[key] = [x for x in node[key]
                                 if str(x.get("name", "") if isinstance(x, dict) else x).startswith(prefix)]
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(doc)
    return doc


def both(capsys, prefix, *argv, between=None):
    """(in-process document, flow document) of `idflow --json *argv` with and without --prefect."""
    plain = run_cli(capsys, "--json", *argv)
    if between:
        between()
    flowed = run_cli(capsys, "--json", *argv, "--prefect")
    assert flowed.code == plain.code, (plain.err, flowed.err)
    flowed_doc = flowed.json
    flow_run = flowed_doc.pop("flow_run")
    assert set(flow_run) == {"id", "name", "url"} and flow_run["url"].endswith(f"/runs/flow-run/{flow_run['id']}")
    assert "flow_run" not in plain.json
    return plain, normalised(plain.json, prefix), normalised(flowed_doc, prefix)


@pytest.fixture
def scene(prefect_harness, project, prefix, client):
    """Uploaded: same, changed, orphan (file then removed); local only: new (the project has its own identity)."""
    names = {k: prefix + k for k in ("same", "changed", "orphan", "new")}
    for key in ("same", "changed", "orphan"):
        project.write_task(names[key], task_source(names[key], retry_count=1))
    from idflow.cli.app import main

    assert main(["tasks", "upload", "--all"]) == 0
    shutil.rmtree(project.tasks_dir / names["orphan"])
    project.write_task(names["changed"], task_source(names["changed"], retry_count=5))
    project.write_task(names["new"], task_source(names["new"]))
    return names


def test_diff(scene, capsys, prefix):
    plain, direct, flowed = both(capsys, prefix, "tasks", "diff")
    assert plain.code == 4 and direct == flowed
    actions = {i["name"]: i["action"] for i in direct["items"]}
    assert actions == {scene["same"]: "unchanged", scene["changed"]: "update", scene["new"]: "create",
                       scene["orphan"]: "orphaned"}


def test_upload(scene, capsys, prefix, client):
    before = {d["name"]: d for d in client.list_taskdefs() if d["name"].startswith(prefix)}

    def put_back():
        client.delete_taskdef(scene["new"])
        client.upsert_taskdefs([before[scene["changed"]]])

    plain, direct, flowed = both(capsys, prefix, "tasks", "upload", "--all", between=put_back)
    assert plain.code == 0 and direct == flowed
    assert direct["created"] == [scene["new"]] and direct["updated"] == [scene["changed"]]


def test_purge_dry_run(scene, capsys, prefix):
    plain, direct, flowed = both(capsys, prefix, "tasks", "purge", "--orphaned", "--dry-run")
    assert plain.code == 0 and direct == flowed
    assert direct["would_delete"] == [scene["orphan"]] and direct["deleted"] == []


def test_sync(scene, capsys, prefix, client):
    before = {d["name"]: d for d in client.list_taskdefs() if d["name"].startswith(prefix)}

    def put_back():
        client.delete_taskdef(scene["new"])
        client.upsert_taskdefs([before[scene["changed"]]])
        if scene["orphan"] not in {d["name"] for d in client.list_taskdefs()}:
            client.upsert_taskdefs([before[scene["orphan"]]])

    plain, direct, flowed = both(capsys, prefix, "tasks", "sync", "--prune", "-y", between=put_back)
    assert plain.code == 0 and direct == flowed
    assert direct["upload"]["created"] == [scene["new"]] and direct["purge"]["deleted"] == [scene["orphan"]]

