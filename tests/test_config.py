"""load_config: precedence, both file forms, and errors that name file, key and line. No server."""
from __future__ import annotations

from pathlib import Path

import pytest

from idflow.project.config import DEFAULT_SERVER_URL, Config, load_config
from idflow.base.errors import ConfigError


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def default_file(cwd: Path, text: str) -> Path:
    return write(cwd / "config" / "idflow.yml", text)


def config_error(text: str, cwd: Path) -> str:
    default_file(cwd, text)
    with pytest.raises(ConfigError) as info:
        load_config(environ={})
    message = str(info.value)
    assert str(Path("config/idflow.yml")) in message
    return message


def test_defaults_without_a_file(cwd: Path) -> None:
    config = load_config(environ={})
    assert config.conductor_server_url == DEFAULT_SERVER_URL
    assert (config.tasks_dir, config.workflows_dir) == ("idflow/tasks", "idflow/workflows")
    assert config.source_form == "defaults" and config.path is None and config.origins == {}


def test_file_beats_defaults(cwd: Path) -> None:
    path = default_file(cwd, "tasks_dir: src/tasks\nrequire_clean: true\nrequest_timeout_seconds: 3\n")
    config = load_config(environ={})
    assert config.tasks_dir == "src/tasks" and config.require_clean is True
    assert config.request_timeout_seconds == 3
    assert config.workflows_dir == "idflow/workflows"
    assert config.source_form == "flat" and config.path == str(Path("config/idflow.yml"))
    assert config.origins["tasks_dir"] == f"file {Path('config/idflow.yml')}"
    assert path.exists()


def test_environment_beats_file(cwd: Path) -> None:
    default_file(cwd, "conductor_server_url: http://file:1/api\ntasks_dir: file/tasks\nworkflows_dir: file/wf\n")
    environ = {"CONDUCTOR_SERVER_URL": "http://env:2", "IDFLOW_TASKS_DIR": "env/tasks",
               "IDFLOW_WORKFLOWS_DIR": "env/wf"}
    config = load_config(environ=environ)
    assert config.api_url == "http://env:2/api"
    assert (config.tasks_dir, config.workflows_dir) == ("env/tasks", "env/wf")
    assert config.origins["tasks_dir"] == "environment IDFLOW_TASKS_DIR"
    assert config.origins["conductor_server_url"] == "environment CONDUCTOR_SERVER_URL"


def test_flag_beats_environment(cwd: Path) -> None:
    default_file(cwd, "tasks_dir: file/tasks\n")
    environ = {"IDFLOW_TASKS_DIR": "env/tasks", "CONDUCTOR_SERVER_URL": "http://env:2/api"}
    config = load_config(overrides={"tasks_dir": "flag/tasks", "conductor_server_url": None}, environ=environ)
    assert config.tasks_dir == "flag/tasks" and config.origins["tasks_dir"] == "command line"
    # A flag left unset (None) does not hide the environment.
    assert config.conductor_server_url == "http://env:2/api"


def test_idflow_config_env_selects_the_file_and_a_flag_beats_it(cwd: Path) -> None:
    default_file(cwd, "tasks_dir: default/tasks\n")
    from_env = write(cwd / "env.yml", "tasks_dir: env-file/tasks\n")
    from_flag = write(cwd / "flag.yml", "tasks_dir: flag-file/tasks\n")
    assert load_config(environ={"IDFLOW_CONFIG": str(from_env)}).tasks_dir == "env-file/tasks"
    config = load_config(from_flag, environ={"IDFLOW_CONFIG": str(from_env)})
    assert config.tasks_dir == "flag-file/tasks" and config.path == str(from_flag)


@pytest.mark.parametrize("url", ["http://h:8080", "http://h:8080/", "http://h:8080/api", "http://h:8080/api/",
                                 " http://h:8080/api "])
def test_server_url_with_or_without_api(cwd: Path, url: str) -> None:
    default_file(cwd, f"conductor_server_url: '{url}'\n")
    assert load_config(environ={}).api_url == "http://h:8080/api"
    assert load_config(environ={"CONDUCTOR_SERVER_URL": url}).api_url == "http://h:8080/api"


def test_nested_id_flow_form(cwd: Path) -> None:
    default_file(cwd, "conductor:\n  server_url: http://nested:9/api\n  api_key_env_var: MY_KEY\ntasks_dir: t\n")
    config = load_config(environ={})
    assert config.source_form == "nested"
    assert config.api_url == "http://nested:9/api"
    assert config.conductor_api_key_env_var == "MY_KEY"
    assert config.api_key({"MY_KEY": "k-1"}) == "k-1" and config.api_key({}) is None
    assert config.tasks_dir == "t"


def test_flat_form_is_reported(cwd: Path) -> None:
    default_file(cwd, "conductor_server_url: http://flat:9\nconductor_api_key_env_var: FLAT_KEY\n")
    config = load_config(environ={})
    assert config.source_form == "flat" and config.conductor_api_key_env_var == "FLAT_KEY"


def test_bad_yaml_names_file_and_line(cwd: Path) -> None:
    message = config_error("tasks_dir: a\nworkflows_dir: b\n  oops: c\n", cwd)
    assert ":3:" in message and "invalid YAML" in message


def test_unknown_key_names_key_and_line(cwd: Path) -> None:
    message = config_error("tasks_dir: a\n\ncolour: blue\n", cwd)
    assert ":3:" in message and "'colour'" in message


def test_unknown_nested_key_names_its_line(cwd: Path) -> None:
    message = config_error("conductor:\n  server_url: http://x:1\n  token: abc\n", cwd)
    assert ":3:" in message and "conductor.token" in message


@pytest.mark.parametrize("text, key, line, expected", [
    ("tasks_dir: 5\n", "tasks_dir", 1, "must be str, got int"),
    ("tasks_dir: a\nrequire_clean: \"yes\"\n", "require_clean", 2, "must be bool, got str"),
    ("\n\nmax_retries: true\n", "max_retries", 3, "must be int, got bool"),
    ("request_timeout_seconds: soon\n", "request_timeout_seconds", 1, "must be int or float, got str"),
    ("conductor:\n  api_key_env_var: K\n  server_url: 8080\n", "conductor.server_url", 3, "must be str, got int"),
])
def test_wrong_type_names_key_line_and_expected_type(cwd: Path, text: str, key: str, line: int,
                                                     expected: str) -> None:
    message = config_error(text, cwd)
    assert f":{line}: {key} {expected}" in message


def test_conductor_that_is_not_a_mapping(cwd: Path) -> None:
    message = config_error("tasks_dir: a\nconductor: http://x:1\n", cwd)
    assert ":2:" in message and "conductor must be a mapping" in message


def test_top_level_that_is_not_a_mapping(cwd: Path) -> None:
    message = config_error("- a\n- b\n", cwd)
    assert "must be a mapping" in message


def test_empty_file_gives_defaults(cwd: Path) -> None:
    default_file(cwd, "# nothing yet\n")
    config = load_config(environ={})
    assert config == Config(path=config.path, source_form="defaults", origins={})


@pytest.mark.parametrize("how", ["argument", "IDFLOW_CONFIG"])
def test_missing_explicit_config_file(cwd: Path, how: str) -> None:
    missing = cwd / "nowhere" / "idflow.yml"
    with pytest.raises(ConfigError) as info:
        if how == "argument":
            load_config(missing, environ={})
        else:
            load_config(environ={"IDFLOW_CONFIG": str(missing)})
    assert str(missing) in str(info.value) and "does not exist" in str(info.value)
    assert info.value.exit_code == 1


def test_server_url_must_be_http(cwd: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(environ={"CONDUCTOR_SERVER_URL": "127.0.0.1:8080"})
    assert "environment CONDUCTOR_SERVER_URL" in str(info.value)


def test_server_edits_is_chosen_per_environment_and_defaults_to_refuse(cwd: Path) -> None:
    default_file(cwd, "server_edits: overwrite\nenvironments:\n  dev:\n    server_edits: pull\n"
                      "    server_edits_branch: review/{environment}\n  prod: {}\n")
    assert load_config(environ={}, environment="dev").server_edits == "pull"
    assert load_config(environ={}, environment="dev").server_edits_branch == "review/{environment}"
    assert load_config(environ={}, environment="prod").server_edits == "overwrite"
    assert load_config(environ={}).server_edits == "overwrite"
    assert Config().server_edits == "refuse"


def test_an_unknown_server_edits_policy_names_the_choices_and_line(cwd: Path) -> None:
    message = config_error("environments:\n  dev:\n    server_edits: merge\n", cwd)
    assert ":3:" in message and "refuse, overwrite, pull" in message and "'merge'" in message


# ---- the flat config read without PyYAML is what PyYAML reads ----------------------------------------
FLAT_SAMPLES = ["conductor_server_url: http://127.0.0.1:8080/api\nproject: bench-x_\n",
                "a: on\nb: no\nc: Null\nd:\ne: 0\nf: 123\ng: x.y-z\nh: OFF\ni: Yes\nj: NaN\nk: e5\nl: x:y\n",
                "# a comment\n\nproject: p\n", "on: 1\n", "a: True\nb: y\nc: n\n",
                # these go to the full reader
                "a: 0777\n", "a: 1_000\n", "a: 'q'\n", "a: b # c\n", "a:\n  b: c\n", "a: ~\n", "a: 2024-01-01\n",
                "a:b\n", "a: 12345678901234567890\n", "a: -1\n", "a: 1.5\n", "a: 0x1F\n", "a: b\r\n", "\ta: b\n",
                "--- \na: b\n", "a: &x b\nc: *x\n", "a: [1, 2]\n", "", "# only a comment\n"]


@pytest.mark.parametrize("text", FLAT_SAMPLES)
def test_a_flat_config_reads_as_pyyaml_reads_it(text):
    from idflow.base.reading import CONFIG, yaml_documents
    from idflow.project.config_yaml import YamlDocument, _key_lines, flat_mapping

    fast = flat_mapping(text)
    if fast is None:
        return  # the full reader's, as before
    documents = yaml_documents(text, "idflow.yml", limits=CONFIG, what="config file", single=True)
    data, node = documents[0]
    assert fast == YamlDocument(data, _key_lines(node))
    assert all(type(fast.data[k]) is type(data[k]) for k in data)  # True is no 1, "0" no 0


def test_a_repeated_key_in_a_flat_config_is_still_refused(tmp_path):
    from idflow.base.errors import ConfigError
    from idflow.project.config_yaml import read_yaml

    path = tmp_path / "idflow.yml"
    path.write_text("project: a\nproject: b\n")
    with pytest.raises(ConfigError, match="duplicate key"):
        read_yaml(path)
