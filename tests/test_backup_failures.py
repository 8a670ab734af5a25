"""A backup that cannot be written stops the command before it changes the server.

The backup directory may be not a directory, unwritable or full. Each way, through
`tasks purge NAME -y` and `tasks upload` of a changed task: exit 1 with a clear
message, the server unchanged, and no temporary file left. (Tests run as root here,
which ignores permissions, so "unwritable" and "full" are injected at the system
call idflow makes; "not a directory" is real.)
"""
from __future__ import annotations

import errno
import os
import tempfile

import pytest

from idflow.engine.backups import FileWriteError, write_backup, write_json_file
from tests.clihelp import run_cli, task_source


def _not_a_directory(project, monkeypatch):
    state = project.root / ".idflow"
    state.mkdir(exist_ok=True)
    (state / "backups").write_text("a file where the backup folder should be")


def _state_dir_is_a_file(project, monkeypatch):
    project.config_path.write_text(project.config_path.read_text() + "state_dir: state_file\n")
    (project.root / "state_file").write_text("not a folder")


def _unwritable(project, monkeypatch):
    real = tempfile.mkstemp

    def mkstemp(*args, dir=None, **kwargs):
        if dir is not None and "backups" in str(dir):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(dir))
        return real(*args, dir=dir, **kwargs)
    monkeypatch.setattr(tempfile, "mkstemp", mkstemp)


def _full(project, monkeypatch):
    real = os.fsync

    def fsync(fd):
        if "backups" in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd)
    monkeypatch.setattr(os, "fsync", fsync)


BROKEN = {"not a directory": _not_a_directory, "state_dir is a file": _state_dir_is_a_file,
          "unwritable": _unwritable, "full": _full}


def _leftovers(project) -> list[str]:
    return sorted(str(p.relative_to(project.root)) for p in project.root.rglob("*.tmp"))


@pytest.fixture
def uploaded(project, prefix, capsys):
    name = prefix + "kept"
    project.write_task(name, task_source(name, retry_count=1))
    assert run_cli(capsys, "tasks", "upload", name).code == 0
    return name


@pytest.mark.server
@pytest.mark.parametrize("how", sorted(BROKEN))
def test_purge_stops_before_deleting(project, uploaded, client, capsys, monkeypatch, how):
    BROKEN[how](project, monkeypatch)
    result = run_cli(capsys, "tasks", "purge", uploaded, "-y", "--json")
    assert result.code == 1, result.out + result.err
    assert "internal error" not in result.out + result.err
    assert "cannot write the backup" in result.json["error"]["message"]
    assert "nothing on the server was changed" in result.json["error"]["message"]
    assert client.get_taskdef(uploaded)["retryCount"] == 1
    assert _leftovers(project) == []


@pytest.mark.server
@pytest.mark.parametrize("how", sorted(BROKEN))
def test_upload_of_a_change_stops_before_writing(project, uploaded, client, capsys, monkeypatch, how):
    project.write_task(uploaded, task_source(uploaded, retry_count=7))
    BROKEN[how](project, monkeypatch)
    result = run_cli(capsys, "tasks", "upload", uploaded, "--json")
    assert result.code == 1, result.out + result.err
    assert "internal error" not in result.out + result.err
    assert "cannot write the backup" in result.json["error"]["message"]
    assert client.get_taskdef(uploaded)["retryCount"] == 1
    assert _leftovers(project) == []


@pytest.mark.parametrize("how", ["directory", "missing parent", "parent is a file"])
def test_write_json_file_names_the_problem(tmp_path, how):
    target = {"directory": tmp_path, "missing parent": tmp_path / "nope" / "plan.json",
              "parent is a file": tmp_path / "file" / "plan.json"}[how]
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileWriteError) as caught:
        write_json_file(target, {"a": 1})
    expected = {"directory": "is a directory", "missing parent": "does not exist",
                "parent is a file": "is not a directory"}[how]
    assert expected in caught.value.message and caught.value.exit_code == 1
    assert list(tmp_path.rglob("*.tmp")) == []


def test_an_explicit_out_is_written_whole(tmp_path):
    out = write_backup(tmp_path, "snapshot", [{"name": "a"}], out=tmp_path / "b.json")
    assert out.read_text().startswith("{") and sorted(p.name for p in tmp_path.iterdir()) == ["b.json"]
