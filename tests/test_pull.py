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
