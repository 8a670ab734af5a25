"""The sync flow's server-edits policy (issue 25), per environment: refuse reports and writes nothing,
overwrite reverts, pull commits the edits on a branch of a local bare repository and pushes it, never to
the deployed branch, leaving the checkout and the server as they were."""
from __future__ import annotations

import json

import pytest

import tests.prefect_fixtures  # noqa: F401  (the Prefect environment before Prefect loads; fixtures: conftest)
from tests.clihelp import run_cli, task_source
from tests.eventhelp import handler, handler_prefix, ledgers, written  # noqa: F401  (fixtures)
from tests.gitrepo import commit_all, git, init_bare, init_repo

pytestmark = [pytest.mark.prefect, pytest.mark.server, pytest.mark.usefixtures("ledgers")]


@pytest.fixture
def deployed(project, prefix, handler_prefix, client, capsys, tmp_path, conductor_url):
    """A project on branch main of a bare repository, its task and handler uploaded, then both edited on the
    server: (project, task, handler, task file, handler file, bare repository)."""
    remote = tmp_path / "remote.git"
    init_bare(remote)
    project.config_path.write_text(project.config_path.read_text() + "environments:\n"
                                   + "".join(f"  {env}:\n    conductor_server_url: {conductor_url}\n"
                                             f"    server_edits: {env}\n" for env in ("refuse", "overwrite", "pull")))
    name, event = prefix + "edited", handler_prefix + "h"
    path = project.write_task(name, task_source(name, retry_count=1))
    handlers = project.workflows_dir / "wf" / "event_handlers.json"
    handlers.parent.mkdir(parents=True)
    handlers.write_text(json.dumps([handler(event, "conductor:wf:done", start="wf")], indent=2) + "\n")
    init_repo(project.root)
    git(project.root, "remote", "add", "origin", str(remote))
    commit_all(project.root, "project")
    git(project.root, "push", "-q", "origin", "main")
    assert run_cli(capsys, "tasks", "upload", "--all", "--json").code == 0
    assert run_cli(capsys, "events", "upload", "--all", "--json").code == 0
    copy = client.get_taskdef(name)
    copy["retryCount"] = 6
    client.upsert_taskdefs([copy])
    copy = next(h for h in client.list_event_handlers() if h["name"] == event)
    copy["active"] = False
    client.update_event_handler(copy)
    return project, name, event, path, handlers, remote


def server_state(client, name, event):
    return (client.get_taskdef(name)["retryCount"],
            next(h for h in client.list_event_handlers() if h["name"] == event)["active"])


def test_refuse_reports_the_edits_and_writes_nothing(prefect_harness, deployed, client):
    from idflow.flows import definitions as flows

    project, name, event, *_ = deployed
    state = flows.sync(environment="refuse", events=True, return_state=True)
    assert state.is_failed()
    assert event in state.message and "edited on the server" in state.message
    assert server_state(client, name, event) == (6, False)
    tasks_only = flows.sync(environment="refuse", return_state=True)
    assert tasks_only.is_failed() and name in tasks_only.message
    assert server_state(client, name, event) == (6, False)


def test_overwrite_reverts_the_edits_to_the_code(prefect_harness, deployed, client):
    from idflow.flows import definitions as flows

    project, name, event, *_ = deployed
    doc = flows.sync(environment="overwrite", events=True)
    assert doc["upload"]["updated"] == [name] and written(doc["events"]) == [event]
    assert server_state(client, name, event) == (1, True)


def test_pull_pushes_a_branch_with_exactly_the_edits_and_leaves_the_rest(prefect_harness, deployed, client,
                                                                         prefect_client):
    from idflow.flows import definitions as flows

    project, name, event, path, handlers, remote = deployed
    head = git(project.root, "rev-parse", "HEAD")
    doc = flows.sync(environment="pull", events=True)
    edits = doc["server_edits"]
    assert {(e["kind"], e["name"]) for e in edits["edits"]} == {("task", name), ("event handler", event)}
    branch = edits["branch"]
    assert branch["branch"] == "idflow/server-edits/pull" and branch["pushed"] is True
    assert server_state(client, name, event) == (6, False)                # nothing reverted
    assert git(project.root, "status", "--porcelain") == "" and git(project.root, "rev-parse", "HEAD") == head
    assert git(remote, "rev-parse", "main") == head                         # the deployed branch untouched
    assert git(remote, "rev-parse", f"{branch['branch']}^") == head
    diff = git(remote, "diff", "-U0", "main", branch["branch"])
    changed = [l for l in diff.splitlines() if l[:1] in "+-" and l[:3] not in ("+++", "---")]
    decorator = f"@worker_task(task_definition_name={name!r}, retry_count="
    assert sorted(changed) == sorted(['-    "active": true,', '+    "active": false,',
                                      f"-{decorator}1)", f"+{decorator}6)"]), diff

    again = flows.sync(environment="pull", events=True)["server_edits"]["branch"]
    assert again == {**branch, "pushed": False}                             # nothing new to review
    assert git(remote, "rev-parse", branch["branch"]) == branch["commit"]


def test_pull_dry_run_writes_and_pushes_nothing(prefect_harness, deployed, client):
    from idflow.flows import definitions as flows

    project, name, event, path, handlers, remote = deployed
    doc = flows.sync(environment="pull", events=True, dry_run=True)
    assert {e["name"] for e in doc["server_edits"]["edits"]} == {name, event}
    assert doc["server_edits"]["branch"] is None
    assert git(remote, "for-each-ref", "--format=%(refname)", "refs/heads") == "refs/heads/main"
    assert git(project.root, "status", "--porcelain") == ""
    assert server_state(client, name, event) == (6, False)


def test_pull_refuses_a_conflict_with_the_reason_after_pushing_what_it_could(prefect_harness, deployed, client):
    from idflow.flows import definitions as flows

    project, name, event, path, handlers, remote = deployed
    path.write_text(path.read_text().replace("retry_count=1", "retry_count=2"))
    commit_all(project.root, "the code moved too")
    git(project.root, "push", "-q", "origin", "main")
    state = flows.sync(environment="pull", events=True, return_state=True)
    assert state.is_failed()
    assert name in state.message and "conflict" in state.message
    assert server_state(client, name, event) == (6, False)
    changed = git(remote, "diff", "--name-only", "main", "idflow/server-edits/pull")
    assert changed == "idflow/workflows/wf/event_handlers.json"    # the handler's edit went for review


def test_the_cli_sync_follows_the_same_policy_and_prints_the_same_document(deployed, client, capsys):
    project, name, event, path, handlers, remote = deployed
    done = run_cli(capsys, "--env", "pull", "tasks", "sync", "--json")
    assert done.code == 0, done.err
    edits = done.json["server_edits"]
    assert [(e["kind"], e["name"]) for e in edits["edits"]] == [("task", name)]   # handlers: the flow's events
    assert edits["branch"]["branch"] == "idflow/server-edits/pull" and edits["branch"]["pushed"] is True
    assert done.json["upload"]["updated"] == [] and client.get_taskdef(name)["retryCount"] == 6
    refused = run_cli(capsys, "--env", "refuse", "tasks", "sync", "--json")
    assert refused.code == 3 and name in refused.json["error"]["message"]
