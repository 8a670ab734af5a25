"""Credentials in the server URL (`http://user:pass@host/api`) stay out of every file and document.

The real server has no auth: httpx sends the userinfo as Basic auth and the server
ignores it, so every command works against such a URL. What idflow writes must not
carry it: backups, saved plans, Prefect artifacts and every `--json` document.

The server is shared with other test runs whose definitions show up in listings, so a
bare "pass" could appear in text that is not ours; each password therefore carries a
unique token, and every URL found in the output must have no userinfo at all.
"""
from __future__ import annotations

import json
import re
import shutil
import uuid
from pathlib import Path

import pytest

from tests.clihelp import run_cli, task_source

pytestmark = pytest.mark.server

URL_PATTERN = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'`<>|)]+")


def with_userinfo(api_url: str, userinfo: str) -> str:
    scheme, rest = api_url.split("://", 1)
    return f"{scheme}://{userinfo}@{rest}"


# id -> (userinfo as written in the URL, strings that must never appear)
def credentials(token: str) -> dict[str, tuple[str, list[str]]]:
    return {
        "user-pass": ("user:pass", ["user:pass", "pass@"]),
        "token": (f"alice:pw{token}", [token]),
        # An '@' in the password, not percent-encoded: httpx takes the last '@' as the end
        # of the userinfo, so a cleaner that stops at the first '@' leaks the rest.
        "raw-at-sign": (f"alice:p@ss{token}", [token]),
        "percent-encoded": (f"alice:p%40ss{token}", [token, "p%40ss"]),
        "user-only": (f"tok{token}", [token]),
    }


def assert_clean(where: str, text: str, forbidden: list[str]) -> None:
    for secret in forbidden:
        assert secret not in text, f"{secret!r} leaked into {where}"
    for url in URL_PATTERN.findall(text):
        netloc = url.split("://", 1)[1].split("/", 1)[0]
        assert "@" not in netloc, f"{url!r} in {where} carries userinfo"


@pytest.fixture(params=["user-pass", "token", "raw-at-sign", "percent-encoded", "user-only"])
def secret_url(request, project, conductor_url):
    """(server URL with credentials, forbidden strings); the project's config uses that URL."""
    userinfo, forbidden = credentials(uuid.uuid4().hex[:12])[request.param]
    url = with_userinfo(conductor_url, userinfo)
    text = project.config_path.read_text(encoding="utf-8").replace(conductor_url, url)
    project.config_path.write_text(text, encoding="utf-8")
    return url, forbidden


def test_the_server_ignores_basic_auth_from_the_url(secret_url, fault_proxy, conductor_url):
    from idflow.conductor.client import ConductorClient

    url, _ = secret_url
    proxy = fault_proxy()
    with ConductorClient(url.replace(conductor_url.split("/api")[0].split("://")[1],
                                     proxy.url.split("/api")[0].split("://")[1])) as with_credentials:
        assert isinstance(with_credentials.list_taskdefs(), list)
    [request] = proxy.requests
    assert request.headers["authorization"].startswith("Basic ")


def test_no_file_and_no_json_document_holds_the_credentials(secret_url, project, prefix, capsys, tmp_path):
    url, forbidden = secret_url
    a, b = prefix + "cred_a", prefix + "cred_b"
    project.write_task(a, task_source(a, retry_count=1))
    project.write_task(b, task_source(b, retry_count=1))
    documents: dict[str, str] = {}

    def run(label: str, *argv: str, code: int = 0):
        result = run_cli(capsys, *argv)
        assert result.code == code, (label, result.out, result.err)
        assert_clean(f"{label} stderr", result.err, forbidden)
        documents[label] = result.out
        return result.json

    plan_file = tmp_path / "plan.json"
    diff = run("diff --out", "tasks", "diff", "--json", "--out", str(plan_file), code=4)
    assert {a, b} <= {i["name"] for i in diff["items"] if i["action"] == "create"}
    created = run("upload", "tasks", "upload", "--all", "--json")
    assert sorted(created["created"]) == [a, b]
    project.write_task(a, task_source(a, retry_count=2))
    run("diff", "tasks", "diff", "--json", code=4)
    updated = run("upload over", "tasks", "upload", a, "--json")
    assert updated["updated"] == [a] and updated["backup"]
    run("backup", "tasks", "backup", "--json")
    run("backups", "tasks", "backups", "--json")
    run("list", "tasks", "list", "--json")
    run("list --remote", "tasks", "list", "--remote", "--json")
    run("list --sync", "tasks", "list", "--sync", "--json")
    shutil.rmtree(project.tasks_dir / b)
    dry = run("purge --dry-run", "tasks", "purge", "--orphaned", "--dry-run", "--json")
    purged = run("purge", "tasks", "purge", b, "-y", "--json")
    assert purged["deleted"] == [b] and purged["backup"]
    project.write_task(a, task_source(a, retry_count=3))
    saved = tmp_path / "plan2.json"
    run("diff --out 2", "tasks", "diff", a, "--json", "--out", str(saved), code=4)
    applied = run("apply", "tasks", "apply", str(saved), "--json")
    assert applied["updated"] == [a]
    run("doctor", "doctor", "--json")

    for label, out in documents.items():
        json.loads(out)  # exactly one JSON document
        assert_clean(f"{label} --json", out, forbidden)
    files = [plan_file, saved, *sorted((project.root / ".idflow" / "backups").rglob("*.json"))]
    assert len(files) >= 5  # two plans; backups of the upload, the snapshot and the purge
    for path in files:
        assert_clean(str(path), path.read_text(encoding="utf-8"), forbidden)
    # What the plan and a backup name instead: the same server, without userinfo.
    safe = re.sub(r"//.*@", "//", url)
    assert json.loads(plan_file.read_text())["server_url"] == safe
    assert json.loads(Path(updated["backup"]).read_text())["server_url"] == safe

    from idflow.flows import artifacts

    plan = json.loads(plan_file.read_text())
    markdown = {
        "plan": artifacts.plan_markdown(plan),
        # Even a plan that carries the raw URL (an older idflow, a hand-made document).
        "raw plan": artifacts.plan_markdown({**plan, "server_url": url}),
        "upload result": artifacts.upload_result_markdown(updated),
        "purge plan": artifacts.purge_plan_markdown(dry.get("plan", dry)),
        "purge result": artifacts.purge_result_markdown(purged),
    }
    for label, text in markdown.items():
        assert_clean(f"artifact {label}", text, forbidden)
