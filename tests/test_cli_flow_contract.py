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
from tests.eventhelp import handler, handler_prefix, ledgers  # noqa: F401  (fixtures)
from tests.gitrepo import commit_all, git, init_repo

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


# ---- every other write operation: its generated flow (through the bridge) against its command -------------

def as_flow(operation: str, **params):
    """The document the operation's flow run returns through the `--prefect` bridge, without `flow_run`."""
    from idflow.cli.prefect_bridge import run_as_flow

    doc = run_as_flow(operation, params)
    assert set(doc.pop("flow_run")) == {"id", "name", "url"}
    return doc


def same(plain, flowed_doc, prefix):
    """The command's document (it succeeded) equals the flow's, volatile values aside."""
    assert plain.code == 0, plain.err
    direct = normalised(plain.json, prefix)
    assert direct == normalised(flowed_doc, prefix)
    return direct


def test_events_upload_and_purge(prefect_harness, project, handler_prefix, client, capsys):
    from tests.test_events_cli import write_handlers

    name, wf = handler_prefix + "h", handler_prefix + "wf"
    write_handlers(project, wf, [handler(name, f"conductor:{wf}:done", start=wf)])
    plain = run_cli(capsys, "--json", "events", "upload", "--all")
    copy_ = next(h for h in client.list_event_handlers() if h["name"] == name)
    client.delete_event_handler(name)
    uploaded = same(plain, as_flow("events_upload"), handler_prefix)
    assert uploaded["created"] == [name]

    plain = run_cli(capsys, "--json", "events", "purge", name, "-y")
    client.create_event_handler(copy_)
    purged = same(plain, as_flow("events_purge", names=[name]), handler_prefix)
    assert purged["deleted"] == [name] and name not in {h["name"] for h in client.list_event_handlers()}


def _workflow(name: str, description: str) -> dict:
    return {"name": name, "version": 1, "description": description, "schemaVersion": 2,
            "tasks": [{"name": name + "_task", "taskReferenceName": "s", "type": "SIMPLE"}]}


def test_workflows_upload_and_restore(prefect_harness, project, prefix, client, capsys):
    import json

    name = prefix + "wf"
    project.write_task(name + "_task", task_source(name + "_task"))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    (project.workflows_dir / f"{name}.json").write_text(json.dumps(_workflow(name, "first")))
    plain = run_cli(capsys, "--json", "workflows", "upload", "--all")
    client.delete_workflow(name, 1)
    uploaded = same(plain, as_flow("workflows_upload"), prefix)
    assert client.get_workflow(name, 1)["description"] == "first" and uploaded["failed"] == []

    from idflow.engine.backups import write_backup

    backup = str(write_backup(project.root / ".idflow", "workflows-upload", [client.get_workflow(name, 1)],
                              kind="workflows"))
    client.upsert_workflows([_workflow(name, "second")])
    plain = run_cli(capsys, "--json", "workflows", "restore", backup, "-y")
    client.upsert_workflows([_workflow(name, "second")])
    restored = same(plain, as_flow("workflows_restore", file=backup), prefix)
    assert restored["restored"] == [{"name": name, "version": 1}]
    assert client.get_workflow(name, 1)["description"] == "first"


@pytest.fixture
def repo(project):

    init_repo(project.root)
    return project


def test_tasks_rollback_and_restore(prefect_harness, repo, prefix, client, capsys):

    name = prefix + "rb"
    path = repo.write_task(name, task_source(name, retry_count=1))
    v1 = commit_all(repo.root, "v1")
    path.write_text(path.read_text().replace("retry_count=1", "retry_count=3"))
    commit_all(repo.root, "v2")
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    at_v2 = client.get_taskdef(name)
    plain = run_cli(capsys, "--json", "tasks", "rollback", name, "--to", v1, "-y")
    client.upsert_taskdefs([at_v2])
    rolled = same(plain, as_flow("rollback", to=v1, task_names=[name]), prefix)
    assert rolled["updated"] == [name] and client.get_taskdef(name)["retryCount"] == 1
    at_v1 = client.get_taskdef(name)
    client.upsert_taskdefs([at_v2])
    _, direct, flowed = both(capsys, prefix, "tasks", "rollback", name, "--to", v1, "--dry-run")
    assert direct == flowed and flowed["would_change"] == [name]    # through `--prefect` too
    client.upsert_taskdefs([at_v1])

    backup = plain.json["backup"]       # the v2 copy the command's rollback overwrote
    plain = run_cli(capsys, "--json", "tasks", "restore", backup, "-y")
    client.upsert_taskdefs([at_v1])
    restored = same(plain, as_flow("restore", file=backup), prefix)
    assert restored["restored"] == [name] and client.get_taskdef(name)["retryCount"] == 3


def test_tasks_adopt(prefect_harness, repo, prefix, client, capsys):

    name = prefix + "adopted"
    repo.write_task(name, task_source(name))
    config = repo.config_path.read_text()
    old = next(line for line in config.splitlines() if line.startswith("project:")).split(":", 1)[1].strip()
    commit_all(repo.root, "a task")
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    repo.config_path.write_text(config.replace(f"project: {old}", f"project: {old}-new"))
    shutil.rmtree(repo.tasks_dir / name)
    commit_all(repo.root, "a new identity, the task gone")
    stamped_old = client.get_taskdef(name)
    plain = run_cli(capsys, "--json", "tasks", "adopt", "--from", old, name, "-y")
    client.upsert_taskdefs([stamped_old])
    adopted = same(plain, as_flow("adopt", from_project=old, names=[name]), prefix)
    assert adopted["adopted"] == [name] and adopted["to"] == f"{old}-new"
    client.upsert_taskdefs([stamped_old])
    _, direct, flowed = both(capsys, prefix, "tasks", "adopt", "--from", old, name, "--dry-run")
    assert direct == flowed and flowed["would_adopt"] == [name]     # through `--prefect` too


def test_tasks_import_and_pull(prefect_harness, repo, prefix, client, capsys):
    from pathlib import Path


    imported = prefix + "imported"
    client.upsert_taskdefs([{"name": imported, "retryCount": 2, "timeoutSeconds": 600, "responseTimeoutSeconds": 60,
                             "ownerEmail": "dev@example.org"}])
    unmanaged = client.get_taskdef(imported)
    plain = run_cli(capsys, "--json", "tasks", "import", imported)
    assert plain.code == 0, plain.err
    shutil.rmtree(repo.root / Path(plain.json["written"][0]["path"]).parent)
    client.upsert_taskdefs([unmanaged])
    done = same(plain, as_flow("import_tasks", names=[imported]), prefix)
    assert [i["name"] for i in done["written"]] == [imported] and done["stamped"]["updated"] == [imported]

    pulled = prefix + "pulled"
    path = repo.write_task(pulled, task_source(pulled, retry_count=1))
    commit_all(repo.root, "a task to pull")
    assert run_cli(capsys, "tasks", "upload", pulled).code == 0
    edited = {**client.get_taskdef(pulled), "retryCount": 7}
    client.upsert_taskdefs([edited])
    source = path.read_text()
    plain = run_cli(capsys, "--json", "tasks", "pull", pulled)
    path.write_text(source)
    client.upsert_taskdefs([edited])
    done = same(plain, as_flow("pull", names=[pulled]), prefix)
    assert done["pulled"][0]["keywords"] == {"retry_count": 7} and "retry_count=7" in path.read_text()


def test_tasks_apply_a_saved_plan(prefect_harness, project, prefix, client, capsys):
    name = prefix + "planned"
    project.write_task(name, task_source(name))
    plan_file = project.root / "plan.json"
    assert run_cli(capsys, "tasks", "diff", name, "--out", str(plan_file)).code == 4
    plain = run_cli(capsys, "--json", "tasks", "apply", str(plan_file))
    client.delete_taskdef(name)      # the plan creates it: the server is as planned again
    applied = same(plain, as_flow("apply", plan_file=str(plan_file)), prefix)
    assert applied["created"] == [name] and client.get_taskdef(name)["name"] == name

    client.delete_taskdef(name)
    plain, direct, flowed = both(capsys, prefix, "tasks", "apply", str(plan_file),
                                 between=lambda: client.delete_taskdef(name))
    assert direct == flowed and flowed["created"] == [name]     # and the same through `--prefect`


# Which test above runs each write operation both ways (tests/test_registry.py: every write operation is here).
def test_events_import_and_pull(prefect_harness, project, handler_prefix, client, capsys, ledgers):
    from pathlib import Path

    name, wf = handler_prefix + "imp", handler_prefix + "wf"
    client.create_event_handler(handler(name, f"conductor:{wf}:done", start=wf))
    plain = run_cli(capsys, "--json", "events", "import", name)
    written = Path(plain.json["written"][0]["path"])
    shutil.rmtree(written.parent)
    done = same(plain, as_flow("events_import", names=[name]), handler_prefix)
    assert done["written"][0]["names"] == [name] and written.exists()

    client.update_event_handler({**next(h for h in client.list_event_handlers() if h["name"] == name),
                                 "active": False})
    before = written.read_text()
    looked = run_cli(capsys, "--json", "events", "pull", name, "--dry-run")
    assert same(looked, as_flow("events_pull", names=[name], dry_run=True), handler_prefix)["pulled"]
    pulled = as_flow("events_pull", names=[name])
    assert [p["name"] for p in pulled["pulled"]] == [name] and written.read_text() != before
    assert '"active": false' in written.read_text()


def test_workflows_import_and_pull(prefect_harness, project, prefix, client, capsys, ledgers):
    from pathlib import Path

    name = prefix + "wimp"
    client.upsert_taskdefs([{"name": name + "_task", "retryCount": 1, "timeoutSeconds": 60,
                             "responseTimeoutSeconds": 60, "ownerEmail": "ops@example.org"}])
    client.upsert_workflows([_workflow(name, "made on the server")])
    plain = run_cli(capsys, "--json", "workflows", "import", name)
    written = Path(plain.json["written"][0]["path"])
    shutil.rmtree(written.parent)
    done = same(plain, as_flow("workflows_import", names=[name]), prefix)
    assert done["written"][0]["names"] == [f"{name} v1"] and written.exists()

    client.upsert_workflows([{**client.get_workflow(name, 1), "description": "fixed in the UI"}])
    looked = run_cli(capsys, "--json", "workflows", "pull", name, "--dry-run")
    assert same(looked, as_flow("workflows_pull", names=[name], dry_run=True), prefix)["pulled"]
    pulled = as_flow("workflows_pull", names=[name])
    assert [p["name"] for p in pulled["pulled"]] == [f"{name} v1"] and "fixed in the UI" in written.read_text()


def test_workflows_purge_and_rollback(prefect_harness, repo, prefix, client, capsys, ledgers):
    import json


    name = prefix + "wpr"
    project = repo
    project.write_task(name + "_task", task_source(name + "_task"))
    assert run_cli(capsys, "tasks", "upload", "--all").code == 0
    path = project.workflows_dir / f"{name}.json"
    path.write_text(json.dumps(_workflow(name, "first")))
    first = commit_all(project.root, "first")
    path.write_text(json.dumps(_workflow(name, "second")))
    commit_all(project.root, "second")
    assert run_cli(capsys, "workflows", "upload", "--all").code == 0
    at_second = client.get_workflow(name, 1)
    looked = same(run_cli(capsys, "--json", "workflows", "diff", name), as_flow("workflows_diff", names=[name]), prefix)
    assert [(i["name"], i["state"]) for i in looked["items"]] == [(name, "in_sync")]

    plain = run_cli(capsys, "--json", "workflows", "rollback", name, "--to", first, "-y")
    # Put back through idflow, so its ledger says so too: a copy put back by hand is a server edit, refused.
    assert run_cli(capsys, "workflows", "upload", "--all").code == 0
    assert client.get_workflow(name, 1)["description"] == at_second["description"]
    rolled = same(plain, as_flow("workflows_rollback", to=first, names=[name]), prefix)
    assert [r["version"] for r in rolled["updated"]] == [1] and client.get_workflow(name, 1)["description"] == "first"

    copy_ = client.get_workflow(name, 1)
    plain = run_cli(capsys, "--json", "workflows", "purge", name, "--force", "-y")
    client.upsert_workflows([copy_])
    purged = same(plain, as_flow("workflows_purge", names=[name], force=True), prefix)
    assert purged["deleted"] == [{"name": name, "version": 1}]
    assert name not in {d["name"] for d in client.list_workflows()}


COVERED = {"upload": test_upload, "purge_orphaned": test_purge_dry_run, "sync": test_sync,
           "events_upload": test_events_upload_and_purge, "events_purge": test_events_upload_and_purge,
           "workflows_upload": test_workflows_upload_and_restore, "workflows_restore": test_workflows_upload_and_restore,
           "rollback": test_tasks_rollback_and_restore, "restore": test_tasks_rollback_and_restore,
           "adopt": test_tasks_adopt, "import_tasks": test_tasks_import_and_pull, "pull": test_tasks_import_and_pull,
           "apply": test_tasks_apply_a_saved_plan,
           "events_import": test_events_import_and_pull, "events_pull": test_events_import_and_pull,
           "workflows_import": test_workflows_import_and_pull, "workflows_pull": test_workflows_import_and_pull,
           "workflows_purge": test_workflows_purge_and_rollback,
           "workflows_rollback": test_workflows_purge_and_rollback}
