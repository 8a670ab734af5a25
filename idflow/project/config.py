"""Configuration: CLI flag > environment variables > selected environment entry > config file > defaults.

`environments:` maps a name to connection and behaviour keys (ENVIRONMENT_KEYS, plus
`protected`); `--env NAME`, a flow's `environment` parameter, `IDFLOW_ENV` or
`default_environment:` selects one. An environment named explicitly (--env, the flow
parameter) that sets `conductor_server_url` beats an ambient CONDUCTOR_SERVER_URL: asking
for `prod` by name must never reach the server a shell happened to export. `ignored`
records what was overridden that way, and doctor shows it.

`config/idflow.yml` may use the flat keys of the task-management guide
(`conductor_server_url`, `conductor_api_key_env_var`) or ID Flow's nested form
(`conductor: {server_url, api_key_env_var}`); `Config.source_form` says which.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any, Mapping

from idflow.project.config_yaml import read_yaml, short
from idflow.base.errors import ConfigError
from idflow.project.identity import ProjectIdentity, resolve_identity
from idflow.base.sanitize import redact_url, without_userinfo
from idflow.conductor.httpx_import import import_httpx

DEFAULT_CONFIG_PATH = Path("config/idflow.yml")
DEFAULT_SERVER_URL = "http://127.0.0.1:8080/api"

# key -> (type, default); the file's flat form.
KEYS: dict[str, tuple[type | tuple[type, ...], Any]] = {
    "conductor_server_url": (str, DEFAULT_SERVER_URL),
    "conductor_api_key_env_var": (str, "CONDUCTOR_API_KEY"),
    "tasks_dir": (str, "idflow/tasks"),
    "tasks_dirs": ((list, type(None)), None),  # layers in override order; tasks_dir is last unless listed
    "optional_tasks_dirs": ((list, type(None)), None),  # layers that may be empty or missing (see purging)
    "workflows_dir": (str, "idflow/workflows"),
    "state_dir": (str, ".idflow"),
    "require_clean": (bool, False),
    "request_timeout_seconds": ((int, float), 10.0),
    "max_retries": (int, 4),
    "batch_size": (int, 500),
    "verify_tls": (bool, True),
    "prefect_secret_block": ((str, type(None)), None),
    "project": ((str, type(None)), None),
    # What a sync does with a definition edited on the server since idflow wrote it (SERVER_EDITS).
    "server_edits": (str, "refuse"),
    "server_edits_branch": (str, "idflow/server-edits/{environment}"),
}
# refuse: report it and write nothing; overwrite: revert it to the code; pull: bring it into the code (a
# deployment commits the pulled files on server_edits_branch and pushes it, never to the deployed branch).
SERVER_EDITS = ("refuse", "overwrite", "pull")
NESTED = {"server_url": "conductor_server_url", "api_key_env_var": "conductor_api_key_env_var"}
# Numbers with a floor: (smallest allowed, strictly greater?) -- 0 retries is fine, a 0 s timeout is not.
# What an `environments:` entry may set (the auth key id/secret variables are fixed names, no config keys).
ENVIRONMENT_KEYS = ("conductor_server_url", "conductor_api_key_env_var", "verify_tls", "require_clean", "batch_size",
                    "server_edits", "server_edits_branch")
FLAG, ENV_VAR, ENTRY, FILE_KEY, DEFAULT = "flag", "environment variable", "environment entry", "config key", "default"
MINIMUM = {"request_timeout_seconds": (0, True), "max_retries": (0, False), "batch_size": (1, False)}


@dataclass(frozen=True)
class Config:
    """The settings a command runs with, flags, environment and config file merged (see the module)."""

    conductor_server_url: str = DEFAULT_SERVER_URL
    conductor_api_key_env_var: str = "CONDUCTOR_API_KEY"
    tasks_dir: str = "idflow/tasks"
    tasks_dirs: list[str] | None = None  # task layers in override order (idflow.discovery.layers)
    optional_tasks_dirs: list[str] | None = None  # layers allowed to be empty or missing (an optional submodule)
    workflows_dir: str = "idflow/workflows"
    state_dir: str = ".idflow"
    require_clean: bool = False
    request_timeout_seconds: float = 10.0
    max_retries: int = 4
    batch_size: int = 500
    verify_tls: bool = True
    prefect_secret_block: str | None = None
    project: str | None = None         # the `project:` key; see `identity` for the one in use
    server_edits: str = "refuse"       # refuse | overwrite | pull (SERVER_EDITS)
    server_edits_branch: str = "idflow/server-edits/{environment}"
    path: str | None = None            # the file read, if any
    source_form: str = "defaults"      # "flat", "nested", or "defaults"
    origins: dict[str, str] = field(default_factory=dict)  # key -> where its value came from
    environment: str | None = None     # the selected `environments:` entry
    environment_source: str = "none"   # "--env", "flow parameter", "IDFLOW_ENV", "default_environment", "none"
    environments: tuple[str, ...] = ()  # every name under `environments:`
    protected: bool = False            # writes need --yes and a clean tree (idflow.project.protection)
    protected_by: str | None = None    # the protected environment whose server this is (whatever --env said)
    ignored: dict[str, str] = field(default_factory=dict)  # key -> a value that lost, and why

    @property
    def api_url(self) -> str:
        return normalise_server_url(self.conductor_server_url)

    @property
    def base_dir(self) -> Path:
        """Relative paths in the config are relative to the project root (cwd)."""
        return Path.cwd()

    @property
    def safe_api_url(self) -> str:
        """api_url without user:password, for messages, plans and logs."""
        return without_userinfo(self.api_url)

    @cached_property
    def identity(self) -> ProjectIdentity:
        """Who owns what this project uploads: `project:`, else the origin remote, else unknown."""
        return resolve_identity(self.project, self.base_dir)

    @property
    def project_name(self) -> str | None:
        """The identity stamped on uploads; None when unknown (never the directory's name)."""
        return self.identity.value

    def origin_kind(self, key: str) -> str:
        """Where `key` came from: FLAG, ENV_VAR, ENTRY, FILE_KEY or DEFAULT."""
        origin = self.origins.get(key, "")
        if origin == "command line":
            return FLAG
        if origin.startswith("environment entry"):
            return ENTRY
        return ENV_VAR if origin.startswith("environment ") else FILE_KEY if origin.startswith("file") else DEFAULT

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    def api_key(self, environ: Mapping[str, str] | None = None) -> str | None:
        env = os.environ if environ is None else environ
        return env.get(self.conductor_api_key_env_var) or None


# The usual server URL, which httpx.URL always accepts: a host name (with a letter) or a dotted IPv4
# address, a port, a plain path. Anything else is judged by httpx itself.
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_URL = re.compile(rf"https?://(?:{_OCTET}(?:\.{_OCTET}){{3}}|(?=[^:/]*[A-Za-z]){_LABEL}(?:\.{_LABEL})*)"
                        r"(?::(?P<port>[0-9]{1,5}))?(?:/[A-Za-z0-9._~/-]*)?")


def url_problem(url: str) -> str | None:
    """Why `url` cannot be the server's API URL (None: it can); never quotes userinfo."""
    if not normalise_server_url(url).startswith(("http://", "https://")):
        return "must start with http:// or https://"
    plain = _PLAIN_URL.fullmatch(normalise_server_url(url))
    if plain and 0 < int(plain["port"] or 80) < 65536:
        return None  # the usual `http://host:8080/api`: valid without importing httpx (~70 ms)
    return httpx_url_problem(url)


def httpx_url_problem(url: str) -> str | None:
    """url_problem without the quick check: httpx.URL judges the URL (the reference the quick check agrees with)."""
    httpx = import_httpx()
    if not normalise_server_url(url).startswith(("http://", "https://")):
        return "must start with http:// or https://"
    try:
        parsed = httpx.URL(normalise_server_url(url))
    except (httpx.InvalidURL, ValueError, TypeError) as exc:
        return f"is not a valid URL ({redact_url(str(exc))[:120]})"
    if not parsed.host:
        return "has no host"
    if parsed.port is not None and not 0 < parsed.port < 65536:
        return "has a port outside 1-65535"
    return None


def shown_url(url: str) -> str:
    """A URL as a message may quote it: any userinfo removed, whatever else is wrong with it."""
    redacted = redact_url(url)
    return short(redacted, 200) + (" (credentials removed)" if redacted != url else "")


def normalise_server_url(url: str) -> str:
    """`http://h:8080`, `http://h:8080/` and `http://h:8080/api/` all mean `http://h:8080/api`."""
    url = url.strip().rstrip("/")
    return url if url.endswith("/api") else url + "/api"


def load_config(path: str | Path | None = None, *, overrides: Mapping[str, Any] | None = None,
                environ: Mapping[str, str] | None = None, environment: str | None = None,
                environment_source: str = "--env") -> Config:
    """Build the Config: overrides (CLI flags) > environment variables > the selected
    environment entry > file > defaults. `environment` is a name asked for explicitly
    (`environment_source` says how: --env or a flow parameter)."""
    env = os.environ if environ is None else environ
    origins: dict[str, str] = {}
    explicit = path or env.get("IDFLOW_CONFIG")
    file_path = Path(explicit) if explicit else DEFAULT_CONFIG_PATH
    values: dict[str, Any] = {}
    form = "defaults"
    entries: dict[str, dict[str, Any]] = {}
    default_name = None
    if file_path.exists():
        values, form, entries, default_name = _read_file(file_path)
        origins.update({k: f"file {file_path}" for k in values})
    elif explicit:
        raise ConfigError(f"config file {file_path} does not exist",
                          hint="create it, or drop --config / IDFLOW_CONFIG to use the defaults")
    name, source = _select_environment(environment, environment_source, env, entries, default_name, file_path)
    file_url = values.get("conductor_server_url", DEFAULT_SERVER_URL)
    entry = dict(entries.get(name, {})) if name else {}
    protected = bool(entry.pop("protected", False))
    values.update(entry)
    origins.update({k: f"environment entry {name} (file {file_path})" for k in entry})
    ignored: dict[str, str] = {}
    for env_name, key in (("CONDUCTOR_SERVER_URL", "conductor_server_url"), ("IDFLOW_TASKS_DIR", "tasks_dir"),
                          ("IDFLOW_WORKFLOWS_DIR", "workflows_dir"), ("IDFLOW_STATE_DIR", "state_dir")):
        if not env.get(env_name):
            continue
        if key in entry and source in ("--env", "flow parameter"):
            ignored[key] = (f"environment {env_name} is set but ignored: environment {name} was selected "
                            f"with {source} and sets {key}")
            continue
        values[key] = env[env_name]
        origins[key] = f"environment {env_name}"
    for key, value in (overrides or {}).items():
        if value is not None:
            values[key] = value
            origins[key] = "command line"
    config = replace(Config(), **values, path=str(file_path) if file_path.exists() else None,
                     source_form=form, origins=origins, environment=name, environment_source=source,
                     environments=tuple(entries), protected=protected, ignored=ignored,
                     protected_by=name if protected else None)
    if not protected:  # protection belongs to the server: its URL is protected whatever selected it
        guarding = protected_at(config.api_url, entries, file_url)
        if guarding:
            config = replace(config, protected=True, protected_by=guarding)
    problem = url_problem(config.conductor_server_url)
    if problem:
        raise ConfigError(f"conductor_server_url {shown_url(config.conductor_server_url)} "
                          f"({origins.get('conductor_server_url', 'default')}) {problem}")
    return config


def same_server(a: str, b: str) -> bool:
    """Two API URLs name one server: credentials, case of scheme and host, trailing `/` and `/api` aside."""
    def key(url: str) -> str:
        url = without_userinfo(normalise_server_url(url))
        scheme, _, rest = url.partition("://")
        host, _, path = rest.partition("/")
        return f"{scheme.lower()}://{host.lower()}/{path}"
    return key(a) == key(b)


def protected_at(api_url: str, entries: dict[str, dict[str, Any]], file_url: str) -> str | None:
    """The name of a protected environment whose server is `api_url` (None: no protected one is)."""
    for env_name, settings in entries.items():
        if settings.get("protected") and same_server(api_url, str(settings.get("conductor_server_url", file_url))):
            return env_name
    return None


def _select_environment(asked: str | None, asked_source: str, env: Mapping[str, str],
                        entries: dict[str, dict[str, Any]], default_name: str | None,
                        file_path: Path) -> tuple[str | None, str]:
    """(name, how it was chosen): the explicit name > IDFLOW_ENV > default_environment > none."""
    for name, source in ((asked, asked_source), (env.get("IDFLOW_ENV"), "IDFLOW_ENV"),
                         (default_name, "default_environment")):
        if not name:
            continue
        if name not in entries:
            known = ", ".join(entries) or f"none: {file_path} has no environments: mapping"
            raise ConfigError(f"unknown environment {short(name)} (from {source})", hint=f"known environments: {known}")
        return name, source
    return None, "none"


def _read_environments(path: Path, data: dict[str, Any], lines: dict[str, int]) -> tuple[dict, str | None]:
    """`environments:` (name -> entry) and `default_environment:`, each entry checked like a top-level key."""
    raw = data.pop("environments", None) or {}
    default_name = data.pop("default_environment", None)
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}:{lines.get('environments', 1)}: environments must be a mapping of names "
                          f"to settings, got {type(raw).__name__}")
    entries: dict[str, dict[str, Any]] = {}
    for name, entry in raw.items():
        where = f"{path}:{lines.get(f'environments.{name}', 1)}"
        if not isinstance(name, str) or not name or not isinstance(entry, (dict, type(None))):
            raise ConfigError(f"{where}: environments.{short(name)} must be a name with a mapping of settings")
        checked = {}
        for key, value in (entry or {}).items():
            line = lines.get(f"environments.{name}.{key}", 1)
            if key == "protected":
                if not isinstance(value, bool):
                    raise ConfigError(f"{path}:{line}: environments.{name}.protected must be true or false")
            elif key not in ENVIRONMENT_KEYS:
                raise ConfigError(f"{path}:{line}: environments.{name}: unknown key {short(key)}",
                                  hint=f"an environment may set: {', '.join(ENVIRONMENT_KEYS)}, protected")
            else:
                _check_value(path, line, f"environments.{name}.{key}", key, value)
            checked[key] = value
        entries[name] = checked
    if default_name is not None and (not isinstance(default_name, str) or default_name not in entries):
        raise ConfigError(f"{path}:{lines.get('default_environment', 1)}: default_environment "
                          f"{short(default_name)} is not under environments:",
                          hint=f"known environments: {', '.join(entries) or 'none'}")
    return entries, default_name


def _read_file(path: Path) -> tuple[dict[str, Any], str, dict[str, dict[str, Any]], str | None]:
    document = read_yaml(path)
    data = document.data
    if data is None:
        return {}, "defaults", {}, None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}:1: the config must be a mapping of keys to values, got {type(data).__name__}")
    lines = dict(document.lines)
    entries, default_name = _read_environments(path, data, lines)
    shown = {key: key for key in data}  # the name as the file spells it, for messages
    form = "flat"
    if "conductor" in data:
        nested = data.pop("conductor")
        if not isinstance(nested, dict):
            raise ConfigError(f"{path}:{lines.get('conductor', 1)}: conductor must be a mapping "
                              f"(server_url, api_key_env_var), got {type(nested).__name__}")
        form = "nested"
        for key, value in nested.items():
            line = lines.get(f"conductor.{key}", 1)
            if key not in NESTED:
                raise ConfigError(f"{path}:{line}: unknown key conductor.{str(key)[:80]}",
                                  hint=f"known keys under conductor: {', '.join(NESTED)}")
            if NESTED[key] in data:  # two spellings of one key: neither may silently win
                raise ConfigError(f"{path}:{line}: conductor.{key} and {NESTED[key]} (line "
                                  f"{lines.get(NESTED[key], 1)}) both set the same value; keep one of them",
                                  hint="the nested form is ID Flow's, the flat form the task-management guide's")
            data[NESTED[key]] = value
            lines[NESTED[key]] = line
            shown[NESTED[key]] = f"conductor.{key}"
    values = {}
    for key, value in data.items():
        line = lines.get(key, 1)
        if key not in KEYS:
            raise ConfigError(f"{path}:{line}: unknown key {short(key)}",
                              hint=f"known keys: {', '.join(KEYS)}, environments, default_environment")
        _check_value(path, line, shown[key], key, value)
        values[key] = value
    return values, form, entries, default_name


def _check_value(path: Path, line: int, shown: str, key: str, value: Any) -> None:
    """Refuse a value of the wrong type or range for `key`, naming the file and line."""
    kind, _ = KEYS[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    bad_bool = isinstance(value, bool) and bool not in kinds
    if bad_bool or not isinstance(value, kinds):
        expected = " or ".join(k.__name__ for k in kinds if k is not type(None))
        # Whatever holds text may hold a password: for the URL, show only numbers and the like.
        safe = not isinstance(value, (str, list, dict)) or key != "conductor_server_url"
        got = short(value) if safe else "(not shown: it may hold a password)"
        raise ConfigError(f"{path}:{line}: {shown} must be {expected}, got {type(value).__name__} {got}")
    if key in ("tasks_dirs", "optional_tasks_dirs") and not all(isinstance(d, str) and d for d in value):
        raise ConfigError(f"{path}:{line}: {key} must be a list of directory paths, got {short(value)}")
    if key == "server_edits" and value not in SERVER_EDITS:
        raise ConfigError(f"{path}:{line}: {shown} must be one of {', '.join(SERVER_EDITS)}, got {short(value)}")
    if key == "server_edits_branch" and not value.strip():
        raise ConfigError(f"{path}:{line}: {shown} must name a branch")
    if key == "conductor_server_url" and url_problem(value):
        raise ConfigError(f"{path}:{line}: {shown} {shown_url(value)} {url_problem(value)}")
    if key in MINIMUM:
        floor, strict = MINIMUM[key]
        if value < floor or (strict and value == floor) or value != value or value == float("inf"):
            sign = ">" if strict else ">="
            raise ConfigError(f"{path}:{line}: {shown} must be a finite number {sign} {floor}, got {short(value)}")
