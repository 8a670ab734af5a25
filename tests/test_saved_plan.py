"""`tasks apply PLAN` writes only to the server the plan was made against, as it was then.

Which URLs name "the same server": idflow cannot ask a Conductor server who it is (it
has no identity to compare), so it compares the normalised URL without userinfo. Forms
that differ only in spelling idflow itself normalises (no `/api`, a trailing slash,
credentials) are the same server. Another port or another host name is another server,
even `localhost` for `127.0.0.1`: the name may resolve to another address (`::1`) where
another server listens, and a port may be a proxy or a tunnel to anything. Refusing
costs the user one fresh `diff --out`; guessing wrong writes to the wrong server.
"""
from __future__ import annotations

import json

import pytest

from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server

TASKDEFS = "/api/metadata/taskdefs"


@pytest.fixture
def planned(project, prefix, client, capsys, tmp_path):
    """A saved plan that creates one task and updates another; returns (plan path, create, update)."""
    new, old = prefix + "new", prefix + "old"
    project.write_task(old, task_source(old, retry_count=1))
    assert run_cli(capsys, "tasks", "upload", old, "--json").code == 0
    project.write_task(old, task_source(old, retry_count=2))
    project.write_task(new, task_source(new, retry_count=3))
    path = tmp_path / "plan.json"
    diff = run_cli(capsys, "tasks", "diff", new, old, "--json", "--out", str(path))
    assert diff.code == 4 and {i["name"]: i["action"] for i in diff.json["items"]} == {new: "create", old: "update"}
    return path, new, old


def server_state(client, *names: str) -> dict:
    """Each name's whole server copy (updateTime included), None if absent."""
    held = {d["name"]: d for d in client.list_taskdefs()}
    return {n: held.get(n) for n in names}


def apply(capsys, path, *server_url: str):
    argv = ["--server-url", *server_url] if server_url else []
    return run_cli(capsys, *argv, "tasks", "apply", str(path), "--json")


def test_the_plan_names_the_server_it_was_made_against(planned, conductor_url):
    path, _, _ = planned
    assert json.loads(path.read_text())["server_url"] == conductor_url


@pytest.mark.parametrize("form", ["other port", "localhost", "https"])
def test_a_plan_is_refused_against_another_server_url(planned, client, capsys, fault_proxy, conductor_url, form):
    path, new, old = planned
    before = server_state(client, new, old)
    proxy = fault_proxy()   # another port in front of the very same server: still another URL
    other = {"other port": proxy.url, "localhost": conductor_url.replace("127.0.0.1", "localhost"),
             "https": conductor_url.replace("http://", "https://")}[form]
    result = apply(capsys, path, other)
    assert result.code == 3, (result.out, result.err)
    assert "nothing was written" in result.json["error"]["message"]
    assert proxy.count() == 0        # refused before a single request
    assert server_state(client, new, old) == before


@pytest.mark.parametrize("form", ["no /api", "trailing slash", "credentials"])
def test_the_same_server_spelled_another_way_is_accepted(planned, client, capsys, conductor_url, form):
    path, new, old = planned
    base = conductor_url[: -len("/api")]
    same = {"no /api": base, "trailing slash": conductor_url + "/",
            "credentials": conductor_url.replace("http://", "http://user:pw@")}[form]
    result = apply(capsys, path, same)
    assert result.code == 0, (result.out, result.err)
    assert result.json["created"] == [new] and result.json["updated"] == [old]
    assert client.get_taskdef(new)["retryCount"] == 3 and client.get_taskdef(old)["retryCount"] == 2


@pytest.mark.parametrize("server_url", ["", None], ids=["empty", "missing"])
def test_a_plan_that_names_no_server_is_refused(planned, client, capsys, server_url):
    path, new, old = planned
    plan = json.loads(path.read_text())
    if server_url is None:
        del plan["server_url"]
    else:
        plan["server_url"] = server_url
    path.write_text(json.dumps(plan))
    before = server_state(client, new, old)
    result = apply(capsys, path)
    assert result.code == 3, (result.out, result.err)
    assert server_state(client, new, old) == before


def _change_owned(client, name):
    copy = client.get_taskdef(name)
    client.upsert_taskdefs([{**copy, "retryCount": 7}])


def _rewrite_same(client, name):  # the same content written again: only updateTime moves
    copy = client.get_taskdef(name)
    client.upsert_taskdefs([{k: v for k, v in copy.items() if k not in ("createTime", "updateTime")}])


def _change_foreign_field(client, name):
    copy = client.get_taskdef(name)
    client.upsert_taskdefs([{**copy, "outputKeys": ["someone-else"]}])


def _delete(client, name):
    client.delete_taskdef(name)


MOVES = {"owned field changed": ("old", _change_owned), "written again": ("old", _rewrite_same),
         "other field changed": ("old", _change_foreign_field), "deleted": ("old", _delete),
         "created by someone else": ("new", lambda client, name: client.upsert_taskdefs(
             [{"name": name, "retryCount": 0, "timeoutSeconds": 0, "responseTimeoutSeconds": 60,
               "ownerEmail": "someone@example.com"}]))}


@pytest.mark.parametrize("move", list(MOVES))
def test_a_plan_is_refused_when_the_server_copy_moved(planned, client, capsys, move):
    path, new, old = planned
    which, change = MOVES[move]
    moved = {"old": old, "new": new}[which]
    change(client, moved)
    before = server_state(client, new, old)
    result = apply(capsys, path)
    assert result.code == 3, (result.out, result.err)
    assert moved in result.json["error"]["message"]
    assert server_state(client, new, old) == before
    assert not list((path.parent.parent / "project" / ".idflow" / "backups").glob("*.json"))


def test_a_plan_whose_item_writes_another_name_is_refused(planned, client, capsys, prefix):
    path, new, old = planned
    victim = prefix + "victim"
    client.upsert_taskdefs([{"name": victim, "retryCount": 5, "responseTimeoutSeconds": 60}])
    plan = json.loads(path.read_text())
    for item in plan["items"]:
        if item["name"] == old:
            item["desired"]["name"] = victim   # would overwrite `victim` under the label of `old`
    path.write_text(json.dumps(plan))
    before = server_state(client, new, old, victim)
    result = apply(capsys, path)
    assert result.code == 1 and "error" in result.json, (result.out, result.err)
    assert victim in result.json["error"]["message"]
    assert server_state(client, new, old, victim) == before
