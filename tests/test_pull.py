"""`tasks pull` against the real server: a server edit comes back into the task file as the keyword's
new value, nothing else in the file moves, and the base moves so the next upload is a no-op."""
from __future__ import annotations

import pytest

from tests.clihelp import run_cli
from tests.gitrepo import commit_all, git
from tests.test_team_edges import _edit_on_server, cli, clean_env, make_project  # noqa: F401  (fixture)

pytestmark = pytest.mark.server

SOURCE = '''from idflow import worker_task


@worker_task(
    task_definition_name="{name}",  # the name Conductor knows
    retry_count=2,   # tuned after an incident
    timeout_seconds=600,
    response_timeout_seconds=120,
    retry_logic="FIXED",
    owner_email="dev@example.org",
)
def pulled(task_input):
    """Pulled back from the server."""
    return {{"ok": True}}
'''

EDITS = [("retryCount", 7, "retry_count=7,"), ("timeoutSeconds", 900, "timeout_seconds=900,"),
         ("retryLogic", "LINEAR_BACKOFF", 'retry_logic="LINEAR_BACKOFF",'),
         ("ownerEmail", "ops@example.org", 'owner_email="ops@example.org",'),
         ("rateLimitPerFrequency", 5, "rate_limit_per_frequency=5,")]


def _project(tmp_path, conductor_url, prefix, capsys, monkeypatch, source=SOURCE):
    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team")
    name = f"{prefix}pulled"
    path = root / "idflow" / "tasks" / name / f"{name}.py"
    path.parent.mkdir(parents=True)
    path.write_text(source.format(name=name))
    commit_all(root, "task")
    assert cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json").code == 0
    return root, name, path


@pytest.mark.parametrize("field,value,line", EDITS, ids=[e[0] for e in EDITS])
def test_a_server_edit_is_pulled_into_the_keyword_and_nothing_else_moves(field, value, line, tmp_path,
                                                                          conductor_url, prefix, client, capsys,
                                                                          monkeypatch, clean_env):
    from idflow.provenance.trailer import parse_provenance

    root, name, path = _project(tmp_path, conductor_url, prefix, capsys, monkeypatch)
    before = path.read_text()
    _edit_on_server(client, name, field, value)
    looked = cli(capsys, monkeypatch, root, "tasks", "pull", "--all", "--dry-run", "--json")
    assert looked.code == 0 and path.read_text() == before
    done = cli(capsys, monkeypatch, root, "tasks", "pull", "--all", "--json")
    assert done.code == 0, done.err
    assert line in path.read_text()
    changed = [l for l in git(root, "diff", "-U0").splitlines() if l[:1] in "+-" and l[:3] not in ("+++", "---")]
    assert len([l for l in changed if l.startswith("+")]) == 1, changed   # one keyword line, comments kept
    assert "# the name Conductor knows" in path.read_text() and "# tuned after an incident" in path.read_text()
    assert cli(capsys, monkeypatch, root, "tasks", "diff", "--json").code == 0
    again = cli(capsys, monkeypatch, root, "tasks", "upload", "--all", "--json")
    assert again.code == 0 and again.json["created"] == [] and again.json["updated"] == []
    stamp = parse_provenance(client.get_taskdef(name)["description"])
    assert client.get_taskdef(name)[field] == value and stamp.dirty is True   # the base is the pulled state
    _edit_on_server(client, name, "retryDelaySeconds", 33)   # a later edit is seen again, not a conflict
    item = next(i for i in cli(capsys, monkeypatch, root, "tasks", "diff", "--json").json["items"] if i["name"] == name)
    assert item["action"] == "edited_on_server"


@pytest.mark.parametrize("value", ["RETRIES", "1 + 1"])
def test_a_keyword_that_is_not_a_literal_is_refused_and_the_file_untouched(value, tmp_path, conductor_url, prefix,
                                                                          client, capsys, monkeypatch, clean_env):
    source = ("from idflow import worker_task\nRETRIES = 2\n\n\nclass settings:\n    retries = 2\n\n\n"
              "@worker_task(task_definition_name=\"{name}\", retry_count=" + value + ")\n"
              "def pulled(task_input):\n    return {{}}\n")
    root, name, path = _project(tmp_path, conductor_url, prefix, capsys, monkeypatch, source)
    before = path.read_text()
    _edit_on_server(client, name, "retryCount", 9)
    refused = cli(capsys, monkeypatch, root, "tasks", "pull", name, "--json")
    assert refused.code == 3 and "retry_count=" + value in refused.json["error"]["message"]
    assert path.read_text() == before


def test_a_conflict_is_refused(tmp_path, conductor_url, prefix, client, capsys, monkeypatch, clean_env):
    root, name, path = _project(tmp_path, conductor_url, prefix, capsys, monkeypatch)
    _edit_on_server(client, name, "retryCount", 9)
    path.write_text(path.read_text().replace("timeout_seconds=600", "timeout_seconds=700"))
    before = path.read_text()
    refused = cli(capsys, monkeypatch, root, "tasks", "pull", "--all", "--json")
    assert refused.code == 3 and "both on the server and in the code" in refused.json["error"]["message"]
    assert path.read_text() == before


# ---- tasks import: server-only definitions become task files ------------------------------------------------
def corpus(prefix: str) -> list[dict]:
    """Definitions that together set every owned field, in several shapes; names that are no identifiers too."""
    return [
        {"name": f"{prefix}every-field.v2", "retryCount": 7, "timeoutSeconds": 1200, "timeoutPolicy": "RETRY",
         "retryLogic": "EXPONENTIAL_BACKOFF", "retryDelaySeconds": 15, "responseTimeoutSeconds": 300,
         "concurrentExecLimit": 4, "rateLimitFrequencyInSeconds": 10, "rateLimitPerFrequency": 20,
         "backoffScaleFactor": 3, "totalTimeoutSeconds": 7200, "pollTimeoutSeconds": 90,
         "ownerEmail": "ops@example.org", "inputKeys": ["order", "customer"], "outputKeys": ["receipt"],
         "description": "Charges the card.\n\nTwo paragraphs, \"quotes\" and a \\ backslash.",
         "inputTemplate": {"region": "eu"}},
        {"name": f"{prefix}defaults_only", "timeoutSeconds": 0, "responseTimeoutSeconds": 3600},
        {"name": f"{prefix}linear", "retryLogic": "LINEAR_BACKOFF", "timeoutPolicy": "ALERT_ONLY", "retryCount": 0,
         "timeoutSeconds": 60, "responseTimeoutSeconds": 60},
        {"name": f"{prefix}2nd:class", "retryCount": 1, "timeoutSeconds": 30, "responseTimeoutSeconds": 10,
         "description": "a name with a space and a leading digit after the prefix"},
    ]


def test_import_then_diff_shows_nothing_to_change_for_every_owned_field(tmp_path, conductor_url, prefix, client,
                                                                        capsys, monkeypatch, clean_env):
    from idflow.provenance.trailer import parse_provenance

    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team")
    definitions = corpus(prefix)
    client.upsert_taskdefs(definitions)
    names = [d["name"] for d in definitions]
    looked = cli(capsys, monkeypatch, root, "tasks", "import", *names, "--dry-run", "--json")
    assert looked.code == 0 and [i["name"] for i in looked.json["would_write"]] == names
    assert not any(root.joinpath("idflow", "tasks").glob(f"{prefix}*"))
    done = cli(capsys, monkeypatch, root, "tasks", "import", *names, "--json")
    assert done.code == 0, done.err
    for item in done.json["written"]:
        text = open(item["path"]).read()
        compile(text, item["path"], "exec")
        assert "NotImplementedError" in text and "imported from the Conductor server" in text
    diff = cli(capsys, monkeypatch, root, "tasks", "diff", *names, "--json")
    assert diff.code == 0 and {i["action"] for i in diff.json["items"]} == {"unchanged"}
    held = {d["name"]: d for d in client.list_taskdefs()}
    assert all(parse_provenance(held[n]["description"]).project == f"{prefix}team" for n in names)
    assert held[names[0]]["inputTemplate"] == {"region": "eu"}          # fields idflow does not own stay
    again = cli(capsys, monkeypatch, root, "tasks", "import", *names, "--json")
    assert again.code == 3   # already task files: never written over


def test_import_all_unmanaged_leaves_other_projects_and_our_own_alone(tmp_path, conductor_url, prefix, client,
                                                                      capsys, monkeypatch, clean_env):
    from tests.test_team_edges import ship

    root = make_project(tmp_path / "p", conductor_url, f"{prefix}team")
    other = make_project(tmp_path / "o", conductor_url, f"{prefix}other")
    ship(capsys, monkeypatch, other, f"{prefix}theirs")
    ship(capsys, monkeypatch, root, f"{prefix}ours")
    client.upsert_taskdefs([{"name": f"{prefix}by_hand", "retryCount": 1, "timeoutSeconds": 60,
                             "responseTimeoutSeconds": 30}])
    doc = cli(capsys, monkeypatch, root, "tasks", "import", "--all-unmanaged", "--dry-run", "--json").json
    planned = [i["name"] for i in doc["would_write"]]
    assert f"{prefix}by_hand" in planned and f"{prefix}theirs" not in planned and f"{prefix}ours" not in planned
    reasons = {s["name"]: s["reason"] for s in doc["skipped"]}
    assert "--take-over" in reasons[f"{prefix}theirs"]
    client.upsert_taskdefs([{"name": f"{prefix}with space", "retryCount": 1}])   # the server takes it, idflow can't
    doc = cli(capsys, monkeypatch, root, "tasks", "import", "--all-unmanaged", "--dry-run", "--json").json
    assert "cannot manage this name" in {s["name"]: s["reason"] for s in doc["skipped"]}[f"{prefix}with space"]
    refused = cli(capsys, monkeypatch, root, "tasks", "import", f"{prefix}theirs", "--json")
    assert refused.code == 3 and f"{prefix}other" in refused.json["error"]["message"]
