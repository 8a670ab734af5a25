"""What a user sees in the Prefect UI, in a real browser: the run page of a drift run and of a
status run, each with its named state (Drift, Unserved) and its artifact's table with the task rows.

Playwright drives Debian's `chromium` (`apt-get install chromium`; `.ci/run` installs it):
Playwright's own browser download is not reachable here. The same test writes the screenshots
that README.md and docs/prefect.md show (docs/img/), so the pictures never go stale.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests.prefect_server import prefect_server_ui  # noqa: F401  (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.prefect, pytest.mark.server]
REPO = Path(__file__).resolve().parent.parent
IMAGES = REPO / "docs" / "img"
CHROMIUM = os.environ.get("IDFLOW_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
# Readable names: the screenshots are the documentation's. Removed again at the end.
RESIZE, GREET, NOTIFY = "resize_image", "greet_user", "notify_user"
LAUNCH = "import sys; from idflow.cli.app import main; sys.exit(main())"


def cli(root: Path, env: dict, *argv: str) -> dict:
    """`idflow --json ARGV` in a subprocess against the UI's Prefect server; its document."""
    done = subprocess.run([sys.executable, "-P", "-c", LAUNCH, "--json", *argv], cwd=root, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 4), done.stderr[-3000:]
    return json.loads(done.stdout)


def task_file(name: str, retries: int) -> str:
    return (f"from idflow import worker_task\n\n\n@worker_task(task_definition_name={name!r}, retry_count={retries}, "
            f"timeout_seconds=300, response_timeout_seconds=60)\ndef {name}(task_input: dict) -> dict:\n"
            f"    return {{'done': True}}\n")


@pytest.fixture
def runs(project, client, prefect_server_ui) -> Iterator[dict]:  # noqa: F811
    """A drift run (greet_user changed, notify_user new) and a status run (resize_image has work, no worker)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM} (apt-get install chromium)")
    for name in (RESIZE, GREET):
        project.write_task(name, task_file(name, 3))
        (project.workflows_dir / f"{name}_wf.json").write_text(json.dumps(
            {"name": f"{name}_wf", "version": 1, "schemaVersion": 2,
             "tasks": [{"name": name, "taskReferenceName": "t", "type": "SIMPLE"}]}))
    env = {k: v for k, v in prefect_server_ui.items() if k != "CONDUCTOR_SERVER_URL"}  # the project config decides
    env["PREFECT_LOGGING_LEVEL"] = "INFO"  # the run page shows the runs' logs, as a user's would
    started: list[str] = []
    try:
        cli(project.root, env, "tasks", "upload", "--all")
        cli(project.root, env, "workflows", "upload", "--all")
        started += [client.start_workflow(f"{RESIZE}_wf", {}) for _ in range(3)]
        project.write_task(GREET, task_file(GREET, 5))
        project.write_task(NOTIFY, task_file(NOTIFY, 3))
        drift = cli(project.root, env, "tasks", "diff", "--prefect")
        status = cli(project.root, env, "tasks", "status", RESIZE, GREET, NOTIFY, "--prefect")
        yield {"drift": drift, "status": status}
    finally:
        for workflow_id in started:
            client.terminate_workflow(workflow_id, "browser test done")
        for name in (RESIZE, GREET):
            client.delete_workflow(f"{name}_wf", 1)
            client.delete_taskdef(name)


def show_run(page, url: str, state: str, artifact: str, image: str) -> list[list[str]]:
    """Open the run page, check its state badge, screenshot it; open its artifact; the table's rows."""
    page.goto(url, wait_until="networkidle")
    badge = page.get_by_text(state, exact=True).first
    badge.wait_for(state="visible")
    page.get_by_text(f"Finished in state {state}(").first.wait_for(state="visible")  # the logs have loaded
    page.screenshot(path=str(IMAGES / f"prefect-{image}-run.png"))
    page.get_by_text("Artifacts", exact=True).click()
    page.locator("a[href*='/artifacts/artifact/']").filter(has_text=artifact).first.click()
    page.locator("table").first.wait_for(state="visible")
    page.screenshot(path=str(IMAGES / f"prefect-{image}-artifact.png"), full_page=True)
    return [[c.strip() for c in row.split("\t")] for row in page.locator("table tr").all_inner_texts()]


def test_the_prefect_ui_shows_the_named_states_and_the_artifacts_tables(runs):
    from playwright.sync_api import sync_playwright

    drift, status = runs["drift"], runs["status"]
    assert drift["drift"] is True and status["attention"] == ["unserved"]
    IMAGES.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            page.set_default_timeout(60_000)
            rows = show_run(page, drift["flow_run"]["url"], "Drift", "idflow-plan", "drift")
            by_name = {r[0]: r for r in rows[1:]}
            assert {GREET, NOTIFY} <= set(by_name), rows
            assert "update" in " ".join(by_name[GREET]) and "create" in " ".join(by_name[NOTIFY])

            rows = show_run(page, status["flow_run"]["url"], "Unserved", "idflow-status", "status")
            header, *body = rows
            assert header[:4] == ["task", "attention", "definition", "used"], header
            by_name = {r[0]: dict(zip(header, r)) for r in body}
            assert set(by_name) == {RESIZE, GREET, NOTIFY}
            assert by_name[RESIZE]["attention"] == "unserved" and by_name[RESIZE]["queue"] == "3"
            assert by_name[RESIZE]["workers"] == "0" and by_name[RESIZE]["last poll"] == "never"
            assert by_name[GREET]["definition"] == "changed" and by_name[NOTIFY]["definition"] == "only in code"
        finally:
            browser.close()
    for kind in ("drift", "status"):
        for view in ("run", "artifact"):
            assert (IMAGES / f"prefect-{kind}-{view}.png").stat().st_size > 10_000
