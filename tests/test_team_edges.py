"""The team's edges, against the real server: clones at other commits, uncommitted work, another
project's stamp, edits made on the server, protection by server URL and plans made from dirty trees.

Ownership has three answers: ours and unwanted (purge may delete), not ours (never touched without an
explicit flag), uncertain (kept, with the reason). An edit made on the server is never reverted unseen.
"""
from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest

from tests.clihelp import PROJECT_ENV, run_cli, task_source
from tests.gitrepo import clone, commit_all, git, init_repo

pytestmark = pytest.mark.server


@pytest.fixture
def clean_env(monkeypatch):
    for name in PROJECT_ENV:
        monkeypatch.delenv(name, raising=False)


def make_project(root: Path, conductor_url: str, project: str, extra: str = "") -> Path:
    """A committed Git repository with config/idflow.yml and an empty task dir."""
    init_repo(root)
    (root / "config").mkdir()
    (root / "idflow" / "tasks").mkdir(parents=True)
    (root / "idflow" / "tasks" / ".keep").touch()
    (root / "config" / "idflow.yml").write_text(f"conductor_server_url: {conductor_url}\nproject: {project}\n"
                                                + extra, encoding="utf-8")
    commit_all(root, "init")
    return root


def write_task(root: Path, name: str, **keywords) -> None:
    folder = root / "idflow" / "tasks" / name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(task_source(name, **(keywords or {"retry_count": 2})), encoding="utf-8")


def ship(capsys, monkeypatch, root: Path, name: str, **keywords) -> None:
    """The everyday path: write the task, commit it, upload everything."""
    write_task(root, name, **keywords)
    commit_all(root, f"add {name}")
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0


def drop_task(root: Path, name: str) -> None:
    shutil.rmtree(root / "idflow" / "tasks" / name)


def cli(capsys, monkeypatch, root: Path, *argv: str):
    monkeypatch.chdir(root)
    return run_cli(capsys, *argv)


def purge_orphaned(capsys, monkeypatch, root: Path):
    done = cli(capsys, monkeypatch, root, "tasks", "purge", "--orphaned", "-y", "--json")
    assert done.code == 0, done.err
    return done.json


def on_server(client, name: str) -> bool:
    return name in {d.get("name") for d in client.list_taskdefs()}


def skipped(doc, name: str) -> str:
    return next((s["reason"] for s in doc["skipped"] if s["name"] == name), "")


# ---- stale clones, other branches, uncommitted work: uncertain, kept -----------------------------
def _ahead(a: Path, b: Path, name: str) -> None:
    """A adds the task, commits and uploads; B is a clone from before."""
    write_task(a, name)
    commit_all(a, "add task")


def _other_branch(a: Path, b: Path, name: str) -> None:
    """A adds the task on main; B has fetched it but works on a branch that never had it."""
    write_task(a, name)
    commit_all(a, "add task")
    git(b, "fetch", "-q", "origin")
    git(b, "checkout", "-q", "-b", "elsewhere")
    (b / "notes.txt").write_text("b's own work\n")
    commit_all(b, "b's branch")


def _uncommitted_new_task(a: Path, b: Path, name: str) -> None:
    """A uploads a task it never committed."""
    write_task(a, name)


def _uncommitted_task_b_pulled_commit(a: Path, b: Path, name: str) -> None:
    """A uploads an uncommitted task on top of a commit that B has too."""
    (a / "readme.txt").write_text("shared\n")
    commit_all(a, "shared commit")
    git(b, "pull", "-q", "origin", "main")
    write_task(a, name)


STALE = {"clone_behind": (_ahead, "which this checkout does not have"),
         "another_branch": (_other_branch, "not in this checkout's history"),
         "uncommitted_new_task": (_uncommitted_new_task, "uncommitted work"),
         "uncommitted_on_a_shared_commit": (_uncommitted_task_b_pulled_commit, "uncommitted work")}


@pytest.mark.parametrize("shape", list(STALE))
def test_a_definition_from_a_commit_this_clone_lacks_is_uncertain_and_kept(
        shape, tmp_path, conductor_url, prefix, client, capsys, monkeypatch, clean_env):
    project = f"{prefix}team"
    a = make_project(tmp_path / "a", conductor_url, project)
    b = clone(a, tmp_path / "b")
    name = f"{prefix}x"
    setup, why = STALE[shape]
    setup(a, b, name)
    assert cli(capsys, monkeypatch, a, "tasks", "upload", "--all", "--json").code == 0
    listed = cli(capsys, monkeypatch, b, "tasks", "list", "--sync", "--json").json
    assert name in listed["uncertain"] and why in listed["uncertain"][name] and name not in listed["orphaned"]
    doc = purge_orphaned(capsys, monkeypatch, b)
    assert doc["deleted"] == [] and why in skipped(doc, name)
    assert client.get_taskdef(name)["name"] == name
    text = cli(capsys, monkeypatch, b, "tasks", "purge", "--orphaned", "--dry-run")
    assert "uncertain" in text.err + text.out


def test_an_uncommitted_deletion_is_uncertain_until_committed(tmp_path, conductor_url, prefix, client, capsys,
                                                             monkeypatch, clean_env):
    root = make_project(tmp_path / "a", conductor_url, f"{prefix}team")
    name = f"{prefix}x"
    ship(capsys, monkeypatch, root, name)
    drop_task(root, name)
    doc = purge_orphaned(capsys, monkeypatch, root)
    assert doc["deleted"] == [] and "not committed" in skipped(doc, name)
    commit_all(root, "drop")
    doc = purge_orphaned(capsys, monkeypatch, root)
    assert doc["deleted"] == [name]
    assert not on_server(client, name)


def test_a_clone_ahead_purges_what_its_history_deleted(tmp_path, conductor_url, prefix, client, capsys,
                                                      monkeypatch, clean_env):
    a = make_project(tmp_path / "a", conductor_url, f"{prefix}team")
    name = f"{prefix}x"
    write_task(a, name)
    commit_all(a, "add")
    b = clone(a, tmp_path / "b")
    assert cli(capsys, monkeypatch, a, "tasks", "upload", "--all", "--json").code == 0
    drop_task(b, name)
    commit_all(b, "drop in b")
    assert purge_orphaned(capsys, monkeypatch, b)["deleted"] == [name]


# ---- another project's stamp: never moved silently ----------------------------------------------
@pytest.mark.parametrize("how", [("--all",), ("NAME",)])
def test_uploading_over_another_projects_definition_is_refused_then_taken_over(
        how, tmp_path, conductor_url, prefix, client, capsys, monkeypatch, clean_env):
    from idflow.provenance.trailer import parse_provenance

    name = f"{prefix}shared"
    first = make_project(tmp_path / "first", conductor_url, f"{prefix}first")
    second = make_project(tmp_path / "second", conductor_url, f"{prefix}second")
    write_task(first, name, retry_count=1)
    write_task(second, name, retry_count=5)
    commit_all(first, "t")
    commit_all(second, "t")
    assert cli(capsys, monkeypatch, first, "tasks", "upload", "--all", "--json").code == 0
    args = [a.replace("NAME", name) for a in how]
    refused = cli(capsys, monkeypatch, second, "tasks", "upload", *args, "--json")
    assert refused.code == 3 and f"{prefix}first" in refused.json["error"]["message"]
    assert "--take-over" in refused.json["error"]["hint"]
    stamp = parse_provenance(client.get_taskdef(name)["description"])
    assert stamp.project == f"{prefix}first" and client.get_taskdef(name)["retryCount"] == 1
    listed = cli(capsys, monkeypatch, second, "tasks", "list", "--sync", "--json").json
    assert listed["other_projects"][name] == f"{prefix}first"
    forced = cli(capsys, monkeypatch, second, "tasks", "upload", *args, "--force", "--json")
    assert forced.code == 3  # --force keeps its meaning: it never takes a definition over
    taken = cli(capsys, monkeypatch, second, "tasks", "upload", *args, "--take-over", "--json")
    assert taken.code == 0, taken.err
    stamp = parse_provenance(client.get_taskdef(name)["description"])
    assert (stamp.project, stamp.taken_from) == (f"{prefix}second", f"{prefix}first")
    assert client.get_taskdef(name)["retryCount"] == 5


def test_another_projects_definition_is_reported_as_theirs_and_never_purged(
        tmp_path, conductor_url, prefix, client, capsys, monkeypatch, clean_env):
    name = f"{prefix}theirs"
    first = make_project(tmp_path / "first", conductor_url, f"{prefix}first")
    second = make_project(tmp_path / "second", conductor_url, f"{prefix}second")
    write_task(first, name)
    commit_all(first, "t")
    assert cli(capsys, monkeypatch, first, "tasks", "upload", "--all", "--json").code == 0
    for extra in ((), ("--include-foreign",)):
        doc = cli(capsys, monkeypatch, second, "tasks", "purge", "--orphaned", *extra, "-y", "--json").json
        reason = skipped(doc, name)
        assert name not in doc["deleted"] and f"project {prefix}first" in reason and "--include-foreign" not in reason
    text = cli(capsys, monkeypatch, second, "tasks", "diff", "-v")
    assert f"uploaded by idflow project {prefix}first" in text.out
    assert on_server(client, name)


# ---- edited on the server since our upload: three-way ----------------------------------------------
EDITS = [("retryCount", 9, {"retry_count": 4}), ("timeoutSeconds", 900, {"timeout_seconds": 1200}),
         ("retryLogic", "LINEAR_BACKOFF", {"retry_logic": "EXPONENTIAL_BACKOFF"}),
         ("rateLimitPerFrequency", 7, {"rate_limit_per_frequency": 3}),
         ("responseTimeoutSeconds", 30, {"response_timeout_seconds": 60}),
         ("ownerEmail", "ops@example.org", {"owner_email": "dev@example.org"})]


def _edit_on_server(client, name: str, field: str, value) -> None:
    copy = client.get_taskdef(name)
    copy[field] = value
    client.upsert_taskdefs([copy])


@pytest.mark.parametrize("field,server_value,code_change", EDITS, ids=[e[0] for e in EDITS])
def test_a_server_edit_is_never_reverted_unseen(field, server_value, code_change, tmp_path, conductor_url, prefix,
                                                client, capsys, monkeypatch, clean_env):
    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team")
    name = f"{prefix}edited"
    base = {"retry_count": 2, "timeout_seconds": 600, "response_timeout_seconds": 120, "owner_email": "a@example.org"}
    write_task(root, name, **base)
    commit_all(root, "t")
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0
    _edit_on_server(client, name, field, server_value)

    diff = cli(capsys, monkeypatch, root, "tasks", "diff", "--json")
    item = next(i for i in diff.json["items"] if i["name"] == name)
    assert diff.code == 4 and item["action"] == "edited_on_server"
    assert cli(capsys, monkeypatch, root, "tasks", "list", "--sync", "--json").json["edited_on_server"] == [name]
    assert cli(capsys, monkeypatch, root, "tasks", "show", name, "--json").json["status"] == "edited_on_server"
    for extra in ((), ("--force",)):
        refused = cli(capsys, monkeypatch, root, "tasks", "upload", "--all", *extra, "--json")
        assert refused.code == 3 and "--overwrite-server-edits" in refused.json["error"]["hint"]
        assert client.get_taskdef(name)[field] == server_value

    write_task(root, name, **{**base, **code_change})     # the code moves too: a conflict
    commit_all(root, "code moves")
    item = next(i for i in cli(capsys, monkeypatch, root, "tasks", "diff", "--json").json["items"] if i["name"] == name)
    assert item["action"] == "conflict"
    refused = cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json")
    assert refused.code == 3 and "conflict" in refused.json["error"]["message"]
    assert json.dumps(server_value) in refused.json["error"]["message"]  # both sides shown
    assert client.get_taskdef(name)[field] == server_value

    done = cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--overwrite-server-edits", "--json")
    assert done.code == 0, done.err
    assert client.get_taskdef(name)[field] != server_value
    assert cli(capsys, monkeypatch, root, "tasks", "diff", "--json").code == 0  # the base moved: in sync again


def test_code_changes_alone_are_plain_updates(tmp_path, conductor_url, prefix, client, capsys, monkeypatch,
                                              clean_env):
    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team")
    name = f"{prefix}plain"
    write_task(root, name, retry_count=2)
    commit_all(root, "t")
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0
    write_task(root, name, retry_count=3, owner_email="new@example.org")  # an optional field joins, too
    commit_all(root, "t2")
    item = next(i for i in cli(capsys, monkeypatch, root, "tasks", "diff", "--json").json["items"] if i["name"] == name)
    assert item["action"] == "update"
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0
    assert client.get_taskdef(name)["retryCount"] == 3


# ---- protection belongs to the server ------------------------------------------------------------
PROTECTED_CONFIG = """environments:
  prod:
    conductor_server_url: {url}
    protected: true
  dev:
    conductor_server_url: {dev_url}
"""


def _variants(url: str) -> dict[str, str]:
    base = url[: -len("/api")]
    return {"same": url, "trailing_slash": url + "/", "without_api": base, "upper_host": base.replace("127.0.0.1",
                                                                                                      "127.0.0.1")}


@pytest.mark.parametrize("route", ["flag", "variable", "env_dev", "top_level"])
def test_a_protected_servers_url_is_protected_whatever_selected_it(route, tmp_path, conductor_url, prefix, client,
                                                                   capsys, monkeypatch, clean_env):
    root = tmp_path / "p"
    dev_url = conductor_url[: -len("/api")] + "/" if route == "env_dev" else "http://127.0.0.1:9/api"
    make_project(root, "http://127.0.0.1:9/api" if route != "top_level" else conductor_url, f"{prefix}team",
                 extra=PROTECTED_CONFIG.format(url=conductor_url, dev_url=dev_url))
    name = f"{prefix}guarded"
    write_task(root, name)
    commit_all(root, "t")
    argv = ["tasks", "upload", "--all", "--json"]
    if route == "flag":
        argv = ["--server-url", conductor_url[: -len("/api")]] + argv
    elif route == "variable":
        monkeypatch.setenv("CONDUCTOR_SERVER_URL", conductor_url + "/")
    elif route == "env_dev":
        argv = ["--env", "dev"] + argv
    refused = cli(capsys, monkeypatch, root, *argv)
    assert refused.code == 3 and "protected" in refused.json["error"]["message"], refused.out + refused.err
    assert "prod" in refused.json["error"]["message"]
    assert not on_server(client, name)
    done = cli(capsys, monkeypatch, root, *argv, "--yes")
    assert done.code == 0, done.out + done.err


# ---- a plan made from a dirty tree is not laundered by cleaning the tree ---------------------------
DIRTY = {"uncommitted_task": lambda root, name: None,
         "untracked_file": lambda root, name: (root / "scratch.txt").write_text("wip\n"),
         "modified_config": lambda root, name: (root / "config" / "idflow.yml").open("a").write("# wip\n")}


@pytest.mark.parametrize("dirt", list(DIRTY))
def test_a_protected_environment_applies_only_plans_made_from_a_clean_tree(dirt, tmp_path, conductor_url, prefix,
                                                                           client, capsys, monkeypatch, clean_env):
    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team",
                        extra=PROTECTED_CONFIG.format(url=conductor_url, dev_url="http://127.0.0.1:9/api")
                        + "default_environment: prod\n")
    name = f"{prefix}planned"
    write_task(root, name)
    if dirt != "uncommitted_task":
        commit_all(root, "task")
    DIRTY[dirt](root, name)
    plan = tmp_path / f"plan-{uuid.uuid4().hex[:6]}.json"
    assert cli(capsys, monkeypatch, root, "tasks", "diff", "--out", str(plan), "--json").code == 4
    assert json.loads(plan.read_text())["tree_dirty"]
    commit_all(root, "clean now")
    refused = cli(capsys, monkeypatch, root, "tasks", "apply", str(plan), "--yes", "--json")
    assert refused.code == 3 and "uncommitted" in refused.json["error"]["message"]
    assert not on_server(client, name)
    clean_plan = tmp_path / "clean.json"
    assert cli(capsys, monkeypatch, root, "tasks", "diff", "--out", str(clean_plan), "--json").code == 4
    done = cli(capsys, monkeypatch, root, "tasks", "apply", str(clean_plan), "--yes", "--json")
    assert done.code == 0, done.err
    assert client.get_taskdef(name)["name"] == name


# ---- two projects in one repository ------------------------------------------------------------
def make_monorepo(root: Path, conductor_url: str, origin: str, projects: dict[str, str | None]) -> Path:
    init_repo(root)
    git(root, "remote", "add", "origin", origin)
    for folder, project in projects.items():
        (root / folder / "config").mkdir(parents=True)
        (root / folder / "idflow" / "tasks").mkdir(parents=True)
        (root / folder / "config" / "idflow.yml").write_text(
            f"conductor_server_url: {conductor_url}\n" + (f"project: {project}\n" if project else ""))
    commit_all(root, "monorepo")
    return root


@pytest.mark.parametrize("origin", ["git@git.example.org:org/mono.git", "https://git.example.org/org/mono",
                                    "ssh://git@git.example.org:22/org/mono.git"])
def test_projects_of_one_monorepo_have_identities_of_their_own(origin, tmp_path, conductor_url, prefix, client,
                                                              capsys, monkeypatch, clean_env):
    root = make_monorepo(tmp_path / f"mono-{prefix}", conductor_url, origin, {"svc_a": None, "svc_b": None})
    a_id = cli(capsys, monkeypatch, root / "svc_a", "doctor", "--json").json["identity"]["value"]
    b_id = cli(capsys, monkeypatch, root / "svc_b", "doctor", "--json").json["identity"]["value"]
    assert a_id == "git.example.org/org/mono#svc_a" and b_id == "git.example.org/org/mono#svc_b"
    name = f"{prefix}svc_a_task"
    write_task(root / "svc_a", name)
    commit_all(root, "a task in svc_a")
    assert cli(capsys, monkeypatch, root / "svc_a", "tasks", "upload", "--all", "--json").code == 0
    doc = cli(capsys, monkeypatch, root / "svc_b", "tasks", "purge", "--orphaned", "-y", "--json").json
    assert name not in doc["deleted"] and "svc_a" in skipped(doc, name)
    assert on_server(client, name)


@pytest.mark.parametrize("shape", ["same_project_key", "key_equals_the_other_derived_identity"])
def test_two_configs_sharing_an_identity_refuse_every_write(shape, tmp_path, conductor_url, prefix, client, capsys,
                                                            monkeypatch, clean_env):
    shared = f"{prefix}shared"
    if shape == "same_project_key":
        projects = {"svc_a": shared, "svc_b": shared}
    else:
        projects = {"svc_a": None, "svc_b": "git.example.org/org/mono#svc_a"}
    root = make_monorepo(tmp_path / "mono", conductor_url, "https://git.example.org/org/mono", projects)
    name = f"{prefix}clash"
    write_task(root / "svc_a", name)
    commit_all(root, "task")
    refused = cli(capsys, monkeypatch, root / "svc_a", "tasks", "upload", "--all", "--json")
    assert refused.code == 3 and "svc_b/config/idflow.yml" in refused.json["error"]["message"]
    assert not on_server(client, name)
    doctor = cli(capsys, monkeypatch, root / "svc_a", "doctor", "--json")
    check = next(c for c in doctor.json["checks"] if c["name"] == "identity")
    assert check["ok"] is False and "svc_b/config/idflow.yml" in check["detail"]


# ---- a layer that vanished ---------------------------------------------------------------------
LAYERED = "tasks_dirs: [vendor/tasks, idflow/tasks]\n"


def _layer_missing(root: Path) -> None:
    shutil.rmtree(root / "vendor")


def _layer_emptied(root: Path) -> None:
    shutil.rmtree(root / "vendor" / "tasks")
    (root / "vendor" / "tasks").mkdir()


def _layer_only_junk(root: Path) -> None:
    shutil.rmtree(root / "vendor" / "tasks")
    (root / "vendor" / "tasks").mkdir(parents=True)
    (root / "vendor" / "tasks" / "__init__.py").touch()
    (root / "vendor" / "tasks" / ".gitkeep").touch()


@pytest.mark.parametrize("vanish", [_layer_missing, _layer_emptied, _layer_only_junk], ids=lambda f: f.__name__[1:])
@pytest.mark.parametrize("optional", [False, True])
def test_an_empty_or_missing_layer_refuses_a_purge(vanish, optional, tmp_path, conductor_url, prefix, client,
                                                  capsys, monkeypatch, clean_env):
    extra = LAYERED + ("optional_tasks_dirs: [vendor/tasks]\n" if optional else "")
    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team", extra=extra)
    name = f"{prefix}vendored"
    folder = root / "vendor" / "tasks" / name
    folder.mkdir(parents=True)
    (folder / f"{name}.py").write_text(task_source(name, retry_count=1))
    commit_all(root, "vendored task")
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0
    vanish(root)
    commit_all(root, "the layer went away")
    for argv in (("tasks", "purge", "--orphaned", "-y", "--json"), ("tasks", "sync", "--prune", "-y", "--json")):
        done = cli(capsys, monkeypatch, root, *argv)
        if optional:
            assert done.code == 0, done.err
        else:
            assert done.code == 3 and "vendor/tasks" in done.err and "optional_tasks_dirs" in done.err
            assert on_server(client, name)
    assert on_server(client, name) is not optional


def test_an_uninitialised_submodule_layer_refuses_a_purge(tmp_path, conductor_url, prefix, client, capsys,
                                                         monkeypatch, clean_env):
    vendor = init_repo(tmp_path / "vendor-src")
    name = f"{prefix}from_submodule"
    (vendor / "tasks" / name).mkdir(parents=True)
    (vendor / "tasks" / name / f"{name}.py").write_text(task_source(name, retry_count=1))
    commit_all(vendor, "vendor task")
    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team", extra=LAYERED)
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(vendor), "vendor")
    commit_all(root, "vendor as a submodule")
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0
    fresh = clone(root, tmp_path / "deployment")  # a clone without --recurse-submodules: vendor/ is empty
    assert not any((fresh / "vendor").iterdir())
    refused = cli(capsys, monkeypatch, fresh, "tasks", "purge", "--orphaned", "-y", "--json")
    assert refused.code == 3 and "vendor/tasks" in refused.err
    assert on_server(client, name)


def test_every_git_clone_step_fetches_submodules():
    import yaml

    repo = Path(__file__).resolve().parent.parent
    files = [repo / "prefect.yaml", *sorted((repo / "idflow" / "templates").glob("*.yaml"))]
    steps = []
    for path in files:
        text = path.read_text()
        for document in yaml.safe_load_all(text):
            steps += [s for s in _walk(document) if isinstance(s, dict) and "prefect.deployments.steps.git_clone" in s]
    assert steps, "no git_clone step found"
    assert all(s["prefect.deployments.steps.git_clone"].get("include_submodules") is True for s in steps)


def _walk(node):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


# ---- adopt: explicit, any remote form, unstamped projects, an exact account --------------------------
def _stamp_as(client, name: str, project: str | None) -> None:
    from dataclasses import replace

    from idflow.provenance.trailer import parse_provenance, stamp

    copy = client.get_taskdef(name)
    copy["description"] = stamp(copy["description"], replace(parse_provenance(copy["description"]), project=project))
    client.upsert_taskdefs([copy])


@pytest.mark.parametrize("given", ["https://git.example.org/org/old.git", "git@git.example.org:org/old.git",
                                   "ssh://git@git.example.org:2222/org/old", "https://git.example.org/org/old/",
                                   "git.example.org/org/old"])
def test_adopt_takes_the_old_remote_in_any_form(given, tmp_path, conductor_url, prefix, client, capsys, monkeypatch,
                                                clean_env):
    from idflow.provenance.trailer import parse_provenance

    root = make_project(tmp_path / "p", conductor_url, f"{prefix}new")
    name = f"{prefix}moved"
    write_task(root, name)
    commit_all(root, "t")
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0
    _stamp_as(client, name, "git.example.org/org/old")
    shown = cli(capsys, monkeypatch, root, "tasks", "adopt", "--from", given, "--json")  # no terminal: a dry run
    assert shown.code == 0 and shown.json["would_adopt"] == [name] and shown.json["from"] == "git.example.org/org/old"
    assert parse_provenance(client.get_taskdef(name)["description"]).project == "git.example.org/org/old"
    done = cli(capsys, monkeypatch, root, "tasks", "adopt", "--from", given, "-y", "--json")
    assert done.code == 0 and done.json["adopted"] == [name]
    assert parse_provenance(client.get_taskdef(name)["description"]).project == f"{prefix}new"


def test_adopt_takes_definitions_stamped_without_a_project(tmp_path, conductor_url, prefix, client, capsys,
                                                          monkeypatch, clean_env):
    from idflow.provenance.trailer import parse_provenance

    root = make_project(tmp_path / "p", conductor_url, f"{prefix}now")
    names = [f"{prefix}a", f"{prefix}b"]
    for name in names:
        write_task(root, name)
    commit_all(root, "t")
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0
    for name in names:
        _stamp_as(client, name, None)
    assert set(cli(capsys, monkeypatch, root, "tasks", "list", "--sync", "--json").json["in_sync"]) >= set(names)
    usage = cli(capsys, monkeypatch, root, "tasks", "adopt", "--from", "x", "--without-project")
    assert usage.code == 2
    done = cli(capsys, monkeypatch, root, "tasks", "adopt", "--without-project", "-y", "--json")
    assert done.code == 0 and sorted(done.json["adopted"]) == sorted(names)
    assert all(parse_provenance(client.get_taskdef(n)["description"]).project == f"{prefix}now" for n in names)


def test_an_interrupted_adopt_accounts_for_every_definition(tmp_path, conductor_url, prefix, client, monkeypatch,
                                                           clean_env):
    """A signal after the first batch: the rest is not attempted, and the account says so exactly."""
    from idflow.conductor.client import ConductorClient
    from idflow.project.config import load_config
    from idflow.base.interrupt import Interruption
    from idflow.provenance.trailer import parse_provenance
    from idflow.usecases.adopt import adopt
    from idflow.usecases.session import Session

    root = make_project(tmp_path / "p", conductor_url, f"{prefix}new", extra="batch_size: 1\n")
    names = [f"{prefix}i{n}" for n in range(3)]
    for name in names:
        client.upsert_taskdefs([{"name": name, "retryCount": 1, "timeoutSeconds": 0, "responseTimeoutSeconds": 10,
                                 "description": ""}])
        _stamp_as_new(client, name, f"{prefix}old")
    monkeypatch.chdir(root)
    interruption = Interruption()

    class SignalAfterFirstBatch(ConductorClient):
        def upsert_taskdefs(self, defs):
            answer = super().upsert_taskdefs(defs)
            interruption._event.set()   # as the SIGINT handler does, between two batches
            return answer

    with Session(load_config(), make_client=lambda c: SignalAfterFirstBatch(conductor_url),
                 interruption=interruption) as session:
        outcome = adopt(session, f"{prefix}old", names=names)
    doc = outcome.to_json()
    assert doc["adopted"] == names[:1] and doc["not_attempted"] == names[1:] and doc["failed"] == []
    assert not outcome.ok
    held = {n: parse_provenance(client.get_taskdef(n)["description"]).project for n in names}
    assert held == {names[0]: f"{prefix}new", names[1]: f"{prefix}old", names[2]: f"{prefix}old"}


def _stamp_as_new(client, name: str, project: str) -> None:
    from idflow.provenance.trailer import Provenance, stamp

    copy = client.get_taskdef(name)
    copy["description"] = stamp("", Provenance(sha=None, dirty=False, path="x.py", hash="0", at="now", project=project))
    client.upsert_taskdefs([copy])


# ---- a layer outside the repository, on a protected environment --------------------------------------
def _outside_plain(layer: Path) -> None:
    pass


def _outside_dirty_checkout(layer: Path) -> None:
    init_repo(layer)
    commit_all(layer, "vendor")
    (layer / "wip.txt").write_text("uncommitted\n")


def _outside_clean_checkout(layer: Path) -> None:
    init_repo(layer)
    commit_all(layer, "vendor")


@pytest.mark.parametrize("shape,allowed", [(_outside_plain, False), (_outside_dirty_checkout, False),
                                           (_outside_clean_checkout, True)], ids=["plain_dir", "dirty_checkout",
                                                                                  "clean_checkout"])
def test_a_layer_outside_the_repository_counts_on_a_protected_environment(shape, allowed, tmp_path, conductor_url,
                                                                          prefix, client, capsys, monkeypatch,
                                                                          clean_env):
    from idflow.provenance.trailer import parse_provenance

    layer = tmp_path / "shared-tasks"
    name = f"{prefix}outside"
    (layer / name).mkdir(parents=True)
    (layer / name / f"{name}.py").write_text(task_source(name, retry_count=1))
    shape(layer)
    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team",
                        extra=f"tasks_dirs: [{layer}, idflow/tasks]\n" + PROTECTED_CONFIG.format(
                            url=conductor_url, dev_url="http://127.0.0.1:9/api"))
    done = cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--yes", "--json")
    if not allowed:
        assert done.code == 3 and str(layer) in done.json["error"]["message"]
        assert not on_server(client, name)
        return
    assert done.code == 0, done.err
    stamp = parse_provenance(client.get_taskdef(name)["description"])
    assert stamp.sha == git(layer, "rev-parse", "HEAD") and stamp.dirty is False
    assert stamp.path == f"{name}/{name}.py"


def test_an_orphan_edited_on_the_server_since_upload_is_uncertain(tmp_path, conductor_url, prefix, client, capsys,
                                                                  monkeypatch, clean_env):
    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team")
    name = f"{prefix}edited_orphan"
    ship(capsys, monkeypatch, root, name)
    _edit_on_server(client, name, "retryCount", 8)
    drop_task(root, name)
    commit_all(root, "drop")
    doc = purge_orphaned(capsys, monkeypatch, root)
    assert doc["deleted"] == [] and "edited on the server" in skipped(doc, name)
    assert on_server(client, name)
