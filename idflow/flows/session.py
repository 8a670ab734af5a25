"""A flow run's Session: the config, with the Conductor key from a Prefect Secret block when named."""
from __future__ import annotations

import os
import threading

from prefect.blocks.system import Secret

from idflow.project.config import load_config
from idflow.base.errors import ConfigError
from idflow.usecases.session import Session

_secret_lock = threading.Lock()


def open_session(config_path: str | None, environment: str | None = None) -> Session:
    """The key lands only in this process's environment (the variable the config names), where
    the client reads it: never in a parameter, a log line or an artifact.

    `environment` names an entry under `environments:` as --env does. A protected one still needs
    a clean tree; the run itself stands for --yes (a deployment or a person started it on purpose)."""
    config = load_config(config_path, environment=environment, environment_source="flow parameter")
    block = config.prefect_secret_block
    if block and not os.environ.get(config.conductor_api_key_env_var):
        with _secret_lock:
            if not os.environ.get(config.conductor_api_key_env_var):
                os.environ[config.conductor_api_key_env_var] = _load_secret(block)
    return Session(config, writes_confirmed=lambda: True)


def _load_secret(block: str) -> str:
    try:
        value = Secret.load(block).get()
    except ValueError as exc:
        raise ConfigError(f"cannot load the Prefect Secret block {block!r} (config key prefect_secret_block): "
                          f"{type(exc).__name__}",
                          hint=f"create it: Secret(value=...).save({block!r}), or unset prefect_secret_block") from None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"the Prefect Secret block {block!r} holds no string value")
    return value
