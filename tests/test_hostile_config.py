"""Hostile config files: bombs, huge values, duplicate keys, two spellings, credentials in bad URLs.

Each case must end in a ConfigError that names the file (and line), in bounded time
and memory, with a short message, and never "internal error".
"""
from __future__ import annotations

import os
import tracemalloc
import uuid
from pathlib import Path

import pytest

from idflow.project.config import load_config
from idflow.base.errors import ConfigError
from tests.clihelp import run_cli


@pytest.fixture
def cwd(tmp_path, monkeypatch) -> Path:
    for name in ("IDFLOW_CONFIG", "IDFLOW_TASKS_DIR", "IDFLOW_WORKFLOWS_DIR", "IDFLOW_STATE_DIR",
                 "CONDUCTOR_SERVER_URL", "CONDUCTOR_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "config").mkdir()
    return tmp_path


def write(cwd: Path, text: str) -> Path:
    path = cwd / "config" / "idflow.yml"
    path.write_text(text, encoding="utf-8")
    return path


def load_error(cwd: Path, text: str) -> str:
    write(cwd, text)
    with pytest.raises(ConfigError) as caught:
        load_config(environ={})
    return str(caught.value)


def laughs(levels: int, width: int = 9, indent: str = "  ") -> str:
    """A billion-laughs sequence: width**levels strings from a few hundred bytes."""
    lines = [f"{indent}- &a0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"{indent}- &a{i} [" + ", ".join([f"*a{i - 1}"] * width) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int) -> str:
    lines = ["conductor:", "  server_url: http://h/api", "  api_key_env_var: K",
             "tasks_dir:", "  - &m0 {k0: 1, k1: 2, k2: 3}"]
    for i in range(1, levels + 1):
        refs = ", ".join([f"*m{i - 1}"] * 9)
        lines.append(f"  - &m{i} {{<<: [{refs}], x{i}: 1}}")
    return "\n".join(lines) + "\n"


BOMBS = {
    "under a known key": "conductor_server_url:\n" + laughs(20),
    "under an unknown key": "surprise:\n" + laughs(20),
    "under conductor": "conductor:\n  server_url:\n" + laughs(20, indent="    "),
    "as a mapping": "tasks_dir: &m0 {a: [lol, lol, lol, lol, lol, lol, lol, lol, lol]}\n" + "".join(
        f"x{i}: &m{i} {{" + ", ".join(f"k{j}: *m{i - 1}" for j in range(9)) + "}\n" for i in range(1, 20)),
    "merge keys": merge_bomb(12),
    "recursive alias": "tasks_dir: &loop [*loop]\n",
    "recursive mapping": "tasks_dir: &loop {self: *loop}\n",
}


@pytest.mark.parametrize("case", sorted(BOMBS))
def test_alias_bombs_are_refused_fast_and_small(cwd, case):
    tracemalloc.start()
    try:
        message = load_error(cwd, BOMBS[case])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "config/idflow.yml:" in message and len(message) < 600
    assert "alias" in message  # refused as a bomb, not by luck on a later check
    assert peak < 20 * 1024 * 1024, f"{peak / 1e6:.0f} MB to refuse a {case} bomb"


def test_a_small_use_of_aliases_is_fine(cwd):
    write(cwd, "conductor:\n  server_url: &url http://h:1/api\n  api_key_env_var: K\n"
               "tasks_dir: &dir tasks\nworkflows_dir: *dir\n")
    config = load_config(environ={})
    assert (config.tasks_dir, config.workflows_dir, config.conductor_server_url) == ("tasks", "tasks", "http://h:1/api")


HUGE = {
    "string of the wrong type": "batch_size: " + "x" * 900_000 + "\n",
    "long unknown key": "k" * 900_000 + ": 1\n",
    "long list": "batch_size: [" + "1, " * 100_000 + "1]\n",
    "long nested key": "conductor:\n  " + "k" * 900_000 + ": 1\n",
    "number of 5000 digits": "max_retries: " + "1" * 5000 + "\n",
    "infinite timeout": "request_timeout_seconds: .inf\n",
    "nan timeout": "request_timeout_seconds: .nan\n",
    "deep nesting": "tasks_dir: " + "[" * 50_000 + "]" * 50_000 + "\n",
    "over one MiB": "# " + "x" * (1 << 20) + "\ntasks_dir: t\n",
}


@pytest.mark.parametrize("case", sorted(HUGE))
def test_huge_values_give_a_short_message(cwd, case):
    message = load_error(cwd, HUGE[case])
    assert "config/idflow.yml" in message and len(message) < 600


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_a_config_path_that_is_no_regular_file_is_refused(cwd, kind, monkeypatch):
    path = cwd / "special.yml"
    os.mkdir(path) if kind == "directory" else os.mkfifo(path)  # reading a FIFO would wait forever
    with pytest.raises(ConfigError, match="not a regular file"):
        load_config(str(path), environ={})


DUPLICATES = {
    "top level": ("tasks_dir: a\nbatch_size: 5\ntasks_dir: b\n", 3, 1),
    "quoted the other way": ("tasks_dir: a\n'tasks_dir': b\n", 2, 1),
    "under conductor": ("conductor:\n  server_url: http://a/api\n  server_url: http://b/api\n", 3, 2),
    "flow mapping": ("conductor: {server_url: http://a/api,\n  server_url: http://b/api}\n", 2, 1),
    "unknown key twice": ("odd: 1\nodd: 2\n", 2, 1),
}


@pytest.mark.parametrize("case", sorted(DUPLICATES))
def test_duplicate_keys_name_both_lines(cwd, case):
    text, line, first = DUPLICATES[case]
    message = load_error(cwd, text)
    assert f"config/idflow.yml:{line}:" in message
    assert "duplicate key" in message and f"first on line {first}" in message


def test_a_merge_key_override_is_no_duplicate(cwd):
    write(cwd, "conductor: {<<: {server_url: http://a/api}, server_url: http://b/api}\n")
    assert load_config(environ={}).conductor_server_url == "http://b/api"


@pytest.mark.parametrize("nested_first", [True, False])
@pytest.mark.parametrize("nested,flat", [("server_url", "conductor_server_url"),
                                         ("api_key_env_var", "conductor_api_key_env_var")])
def test_flat_and_nested_spellings_of_one_key_are_an_error(cwd, nested, flat, nested_first):
    value = "http://h:1/api" if "url" in flat else "SOME_KEY"
    nested_text = f"conductor:\n  {nested}: {value}\n"
    flat_text = f"{flat}: {value}\n"
    text = nested_text + flat_text if nested_first else flat_text + nested_text
    message = load_error(cwd, text)
    nested_line, flat_line = (2, 3) if nested_first else (3, 1)
    assert f"idflow.yml:{nested_line}:" in message and f"{flat} (line {flat_line})" in message
    assert f"conductor.{nested}" in message


def test_doctor_reports_the_conflict_and_exits_1(cwd, capsys):
    write(cwd, "conductor_server_url: http://a:1/api\nconductor:\n  server_url: http://b:1/api\n")
    result = run_cli(capsys, "doctor", "--json")
    assert result.code == 1
    [check] = result.json["checks"]
    assert check["name"] == "config" and not check["ok"] and "both set" in check["detail"]


BAD_URLS = [
    "user:{pw}@host:8080/api",          # no scheme
    "ftp://user:{pw}@host/",            # wrong scheme
    "//user:{pw}@host/api",             # scheme-relative
    "http:/user:{pw}@host/api",         # one slash
    "http:\\\\user:{pw}@host/api",      # backslashes
    "HTTPS://user:{pw}@host/api",       # upper-case scheme
    "http://user:{pw}@host:99999/api",  # port out of range
    "http://user:{pw}@host:port/api",   # port not a number
    "http://user:{pw}@/api",            # no host
    "http://user:{pw}@[::1/api",        # broken IPv6 literal
    "http://user:p@ss{pw}@host:x/api",  # raw '@' in the password, and a bad port
    "http://{pw}@host:-1/api",          # token as the user, bad port
]


@pytest.mark.parametrize("where", ["flat", "nested", "environment", "flag", "list value"])
@pytest.mark.parametrize("template", BAD_URLS)
def test_credentials_in_a_malformed_url_never_appear(cwd, capsys, monkeypatch, where, template):
    secret = "pw" + uuid.uuid4().hex[:12]
    url = template.format(pw=secret)
    argv, overrides = ["doctor"], {}
    if where == "flat":
        write(cwd, f"conductor_server_url: '{url}'\n")
    elif where == "nested":
        write(cwd, f"conductor:\n  server_url: '{url}'\n")
    elif where == "list value":
        write(cwd, f"conductor_server_url: ['{url}']\n")
    elif where == "environment":
        monkeypatch.setenv("CONDUCTOR_SERVER_URL", url)
    else:
        argv, overrides = ["--server-url", url, "doctor"], {"conductor_server_url": url}
    for json_flag in ([], ["--json"]):
        result = run_cli(capsys, *argv, *json_flag)
        text = result.out + result.err
        assert result.code == 1, text
        assert secret not in text and "internal error" not in text
        assert "server_url" in text
    with pytest.raises(ConfigError) as caught:
        load_config(environ=dict(os.environ), overrides=overrides)
    assert secret not in str(caught.value)


@pytest.mark.parametrize("template", [
    "http://user:{pw}@127.0.0.1:1/api",         # nothing listens
    "https://user:{pw}@127.0.0.1:8080/api",     # TLS against a plain-HTTP port
    "http://user:{pw}@127.0.0.1:8080/nothere",  # answers, but not Conductor's API
])
def test_credentials_in_a_valid_url_to_a_failing_server_never_appear(cwd, capsys, template):
    secret = "pw" + uuid.uuid4().hex[:12]
    write(cwd, f"conductor_server_url: '{template.format(pw=secret)}'\n")
    for json_flag in ([], ["--json"]):
        result = run_cli(capsys, "doctor", *json_flag)
        text = result.out + result.err
        assert result.code == 1, text
        assert secret not in text and "internal error" not in text
