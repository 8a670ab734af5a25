"""Progress: the core reports labelled phases and counts; the CLI draws them on stderr only, and
never changes a byte of stdout."""
from __future__ import annotations

import re
import shutil
import sys

import pytest

from tests.clihelp import run_cli, task_source

NAMES = 5


def _tasks(project, prefix) -> list[str]:
    names = [f"{prefix}p{i}" for i in range(NAMES)]
    for name in names:
        folder = project.tasks_dir / name
        folder.mkdir(parents=True)
        (folder / f"{name}.py").write_text(task_source(name, retry_count=1), encoding="utf-8")
    return names


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, int | None, int | None]] = []

    def __call__(self, label, done, total) -> None:
        self.calls.append((label, done, total))

    def labels(self) -> list[str]:
        return list(dict.fromkeys(label for label, _, _ in self.calls))

    def counts(self, label: str) -> list[tuple[int, int]]:
        return [(d, t) for l, d, t in self.calls if l == label and t is not None]


def _assert_counted(counts: list[tuple[int, int]], total: int) -> None:
    assert counts, "nothing was counted"
    done = [d for d, _ in counts]
    assert done == sorted(done) and len(set(done)) == len(done)     # monotonic
    assert {t for _, t in counts} == {total} and done[-1] == total  # final == total


@pytest.mark.server
def test_upload_purge_and_restore_report_labelled_counts(project, prefix):
    from idflow import usecases
    from idflow.project.config import load_config
    from idflow.usecases.adopt import adopt

    with project.config_path.open("a", encoding="utf-8") as config:
        config.write("batch_size: 2\n")   # three upload batches for five definitions
    names = _tasks(project, prefix)
    with usecases.Session(load_config(str(project.config_path))) as session:
        uploading = Recorder()
        assert usecases.upload(session, progress=uploading).ok
        assert uploading.labels() == ["discovering", "reading the server", "uploading"]
        _assert_counted(uploading.counts("uploading"), NAMES)
        assert len(uploading.counts("uploading")) == 3

        shutil.rmtree(project.tasks_dir)
        project.tasks_dir.mkdir()
        deleting = Recorder()
        purged = usecases.purge(session, names=names, force=True, progress=deleting)
        assert sorted(purged.result.deleted) == names
        assert deleting.labels() == ["discovering", "reading the server", "deleting"]
        _assert_counted(deleting.counts("deleting"), NAMES)

        restoring = Recorder()
        restored = usecases.restore(session, purged.result.backup, progress=restoring)
        assert restored.ok
        assert restoring.labels() == ["reading the server", "restoring"]
        _assert_counted(restoring.counts("restoring"), NAMES)

    old = session.config.identity.value     # a new identity: the restored stamps are the old one's to adopt
    project.config_path.write_text(project.config_path.read_text().replace(f"project: {old}", f"project: {old}-new"))
    with usecases.Session(load_config(str(project.config_path))) as session:
        adopting = Recorder()
        adopted = adopt(session, old, names=names, progress=adopting)
        assert adopted.ok and sorted(adopted.result.adopted) == names
        assert adopting.labels() == ["reading the server", "re-stamping"]
        _assert_counted(adopting.counts("re-stamping"), NAMES)


@pytest.fixture
def terminal(monkeypatch):
    """Make stderr count as a terminal in-process: the bar is drawn, as in a shell."""
    from rich.console import Console

    import idflow.cli.state as cli_state

    plain = cli_state._console

    def console(stderr: bool, **options):
        if stderr:
            return Console(stderr=True, highlight=False, force_terminal=True, width=200)
        return plain(stderr, **options)

    monkeypatch.setattr(cli_state, "_console", console)
    plain_stream = cli_state.is_plain   # and idflow's own test of a terminal says so for stderr alone
    monkeypatch.setattr(cli_state, "is_plain", lambda stream, environ=None: stream is not sys.stderr
                        and plain_stream(stream, environ))


def _backup_paths_hidden(text: str) -> str:
    """Each run writes its own backup, and the server stamps its own times: the rest must be equal."""
    text = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[.\d]*(Z|[+-]\d\d:\d\d)?", "<time>", text)
    return re.sub(r"\b1\d{12}\b", "<time>", re.sub(r"\S*backups\S*", "<backup>", text))


@pytest.mark.server
@pytest.mark.parametrize("json_flag", [(), ("--json",)])
def test_stdout_is_the_same_with_and_without_a_terminal(project, prefix, json_flag, capsys, request):
    names = _tasks(project, prefix)
    runs = {}
    for mode in ("plain", "terminal"):
        if mode == "terminal":
            request.getfixturevalue("terminal")
        uploaded = run_cli(capsys, "tasks", "upload", "--all", *json_flag)
        listed = run_cli(capsys, "workflows", "list", "--local", *json_flag)
        purged = run_cli(capsys, "tasks", "purge", *names, "--force", "-y", *json_flag)
        assert (uploaded.code, listed.code, purged.code) == (0, 0, 0), purged.err
        runs[mode] = (uploaded, purged)
    for plain, drawn in zip(runs["plain"], runs["terminal"]):
        assert _backup_paths_hidden(drawn.out) == _backup_paths_hidden(plain.out)
    upload_err, purge_err = runs["terminal"][0].err, runs["terminal"][1].err
    if json_flag:   # --json: never a bar
        assert "\x1b[?25l" not in upload_err + purge_err
    else:
        assert "\x1b[?25l" in upload_err and "uploading 5/5" in upload_err   # the cursor hidden, a bar drawn
        assert "deleting" in purge_err
    assert "\x1b[?25l" not in runs["plain"][0].err + runs["plain"][1].err
