"""`workflows import` and `workflows pull` against the real server: server-only workflow versions become
files that `workflows upload --dry-run` finds unchanged; a server edit comes back into the JSON file with
only the changed values moving; a conflict, or a version idflow has no record of, is refused."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clihelp import run_cli
from tests.eventhelp import ledgers  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("ledgers")


def workflow(name: str, task: str, version: int = 1, **extra) -> dict:
    return {"name": name, "version": version, "description": "made on the server", "ownerEmail": "ops@example.org",
            "schemaVersion": 2, "timeoutSeconds": 300, "timeoutPolicy": "TIME_OUT_WF",
            "inputParameters": ["who"], "outputParameters": {"greeting": "${greet_ref.output.text}"},
            "tasks": [{"name": task, "taskReferenceName": "greet_ref", "type": "SIMPLE",
                       "inputParameters": {"who": "${workflow.input.who}"}},
                      {"name": "shape", "taskReferenceName": "shape_ref", "type": "INLINE",
                       "inputParameters": {"evaluatorType": "graaljs", "expression": "(function(){return 1;})()"}}],
            **extra}


@pytest.fixture
def task(prefix, client):
    name = prefix + "greet"
    client.upsert_taskdefs([{"name": name, "retryCount": 1, "timeoutSeconds": 60, "responseTimeoutSeconds": 60,
                             "ownerEmail": "ops@example.org"}])
    return name


def test_import_writes_new_files_that_upload_finds_unchanged(project, prefix, task, client, capsys):
    one, two = prefix + "one", prefix + "two"
    client.upsert_workflows([workflow(one, task), workflow(two, task), workflow(two, task, 2, description="v2")])
    taken = project.workflows_dir / one / f"{one}.json"
    taken.parent.mkdir(parents=True)
    taken.write_text("not mine\n")  # not a workflow file idflow reads as one: never overwritten
    (project.workflows_dir / one / "README.txt").write_text("kept")

    looked = run_cli(capsys, "workflows", "import", one, two, "--dry-run", "--json")
    assert looked.code == 0, looked.err
    paths = {f["names"][0]: f["path"] for f in looked.json["would_write"]}
    assert paths == {f"{one} v1": str(Path("idflow/workflows") / one / f"{one}.imported1.json"),
                     f"{two} v1": str(Path("idflow/workflows") / two / f"{two}.v1.json"),
                     f"{two} v2": str(Path("idflow/workflows") / two / f"{two}.v2.json")}
    assert not any(Path(p).exists() for p in paths.values())


def test_import_then_upload_dry_run_changes_nothing(project, prefix, task, client, capsys):
    one, two = prefix + "one", prefix + "two"
    client.upsert_workflows([workflow(one, task), workflow(two, task), workflow(two, task, 2, description="v2")])
    done = run_cli(capsys, "workflows", "import", one, two, "--json")
    assert done.code == 0, done.err
    assert done.json["ledger_problem"] is None
    written = json.loads((project.workflows_dir / one / f"{one}.json").read_text())
    assert list(written)[:3] == ["name", "description", "version"] and written["tasks"][0]["name"] == task
    assert not {"createTime", "updateTime", "restartable", "variables"} & set(written)   # filled in by the server
    assert not {"startDelay", "optional", "forkTasks"} & set(written["tasks"][0])
    upload = run_cli(capsys, "workflows", "upload", one, two, "--dry-run", "--json")
    assert upload.code == 0, upload.err
    assert upload.json["would_create"] == [] and upload.json["would_update"] == []
    assert sorted((u["name"], u["version"]) for u in upload.json["unchanged"]) == [(one, 1), (two, 1), (two, 2)]
    again = run_cli(capsys, "workflows", "import", one, "--json")
    assert again.code == 3 and "already in a local file" in again.err


SOURCE = '''{
    "name": "NAME",
    "description": "kept as written",
    "version": 1,
    "tasks": [
        {
            "name": "TASK",
            "taskReferenceName": "greet_ref",
            "type": "SIMPLE",
            "inputParameters": {"who": "${workflow.input.who}"}
        }
    ],
    "timeoutSeconds": 300,
    "timeoutPolicy": "TIME_OUT_WF",
    "ownerEmail": "dev@example.org"
}
'''


@pytest.fixture
def uploaded(project, prefix, task, client, capsys):
    name = prefix + "pulled"
    path = project.workflows_dir / name / f"{name}.json"
    path.parent.mkdir(parents=True)
    path.write_text(SOURCE.replace("NAME", name).replace("TASK", task))
    done = run_cli(capsys, "workflows", "upload", "--all", "--json")
    assert done.code == 0, done.err
    return name, path


def test_a_server_edit_is_pulled_and_only_the_changed_values_move(uploaded, client, capsys):
    name, path = uploaded
    before = path.read_text()
    edited = client.get_workflow(name, 1)
    edited["timeoutSeconds"] = 900
    edited["tasks"][0]["inputParameters"]["who"] = "${workflow.input.name}"
    edited["failureWorkflow"] = "on_failure"
    client.upsert_workflows([edited])

    looked = run_cli(capsys, "workflows", "pull", "--all", "--dry-run", "--json")
    assert looked.code == 0, looked.err
    assert [p["name"] for p in looked.json["pulled"]] == [f"{name} v1"] and path.read_text() == before
    done = run_cli(capsys, "workflows", "pull", name, "--json")
    assert done.code == 0, done.err
    assert path.read_text() == before.replace('"timeoutSeconds": 300', '"timeoutSeconds": 900').replace(
        "${workflow.input.who}", "${workflow.input.name}").replace(
        '"ownerEmail": "dev@example.org"\n', '"ownerEmail": "dev@example.org",\n    "failureWorkflow": "on_failure"\n')
    upload = run_cli(capsys, "workflows", "upload", "--all", "--dry-run", "--json")
    assert upload.json["would_update"] == [] and upload.json["would_create"] == []
    assert run_cli(capsys, "workflows", "pull", "--all", "--json").json["pulled"] == []


def test_a_conflict_is_refused_with_the_reason_and_nothing_moves(uploaded, client, capsys):
    name, path = uploaded
    edited = client.get_workflow(name, 1)
    edited["timeoutSeconds"] = 900
    client.upsert_workflows([edited])
    path.write_text(path.read_text().replace("kept as written", "changed in the code"))
    before = path.read_text()
    refused = run_cli(capsys, "workflows", "pull", "--all", "--json")
    assert refused.code == 3, refused.err
    assert "a conflict" in refused.err and f"{name} v1" in refused.err
    assert path.read_text() == before


def test_a_version_idflow_never_wrote_is_not_pulled_on_a_guess(project, prefix, task, client, capsys):
    name = prefix + "theirs"
    client.upsert_workflows([workflow(name, task)])
    path = project.workflows_dir / name / f"{name}.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(workflow(name, task, timeoutSeconds=60), indent=2))
    refused = run_cli(capsys, "workflows", "pull", name, "--json")
    assert refused.code == 3 and "cannot tell which side changed" in refused.err


def test_all_unmanaged_dry_run_lists_server_only_workflows_and_writes_nothing(project, prefix, task, client, capsys):
    name = prefix + "lone"
    client.upsert_workflows([workflow(name, task)])
    looked = run_cli(capsys, "workflows", "import", "--all-unmanaged", "--dry-run", "--json")
    assert looked.code == 0, looked.err
    assert f"{name} v1" in [n for f in looked.json["would_write"] for n in f["names"]]
    assert not list(project.workflows_dir.rglob("*.json"))


def test_a_yaml_workflow_is_not_rewritten_and_says_why(project, prefix, task, client, capsys):
    import yaml

    name = prefix + "yml"
    path = project.workflows_dir / name / f"{name}.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(yaml.safe_dump(workflow(name, task)))
    assert run_cli(capsys, "workflows", "upload", "--all", "--json").code == 0
    edited = client.get_workflow(name, 1)
    edited["timeoutSeconds"] = 901
    client.upsert_workflows([edited])
    before = path.read_text()
    refused = run_cli(capsys, "workflows", "pull", "--all", "--json")
    assert refused.code == 3 and "not a JSON file" in refused.err
    assert path.read_text() == before
