"""`--prefect`: run a CLI operation as a Prefect flow run, so it shows in the Prefect UI.

Importing this module is cheap; Prefect (~1.7 s) and the flows are imported only
when `run_as_flow` is called. The flow runs in this process against the Prefect
server named by PREFECT_API_URL; without one, Prefect would start a temporary
server for every call (~16 s), so that is refused with a hint instead.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Any, Iterator, Mapping
from importlib.util import find_spec

from idflow.base.errors import IdflowError
from idflow.usecases.registry import FLOW_NAMES, OPERATIONS
SERVER_HINT = ("start one with 'prefect server start', then "
               "'prefect config set PREFECT_API_URL=http://127.0.0.1:4200/api' (see docs/prefect.md); "
               "or drop --prefect to run in-process")


INSTALL_HINT = ("pip install 'idflow[prefect-client]' (Prefect's API client: enough for --prefect), "
                "or 'idflow[prefect]' (also deployments and a worker)")


def prefect_installed() -> bool:
    """Whether `prefect` can be imported (from `prefect` or `prefect-client`), without importing it."""
    return find_spec("prefect") is not None


def prefect_api_url() -> str | None:
    """The API URL of Prefect's settings (the profile); None when Prefect is not installed."""
    if not prefect_installed():
        return None
    from prefect.settings import get_current_settings

    return get_current_settings().api.url or None


def flow_run_url(flow_run_id: Any, api_url: str | None = None) -> str:
    """The UI page of a flow run (PREFECT_UI_URL, else derived from the API URL)."""
    from prefect.settings import get_current_settings

    ui = get_current_settings().ui_url
    if not ui:
        api = (api_url or prefect_api_url() or "").rstrip("/")
        ui = api[: -len("/api")] if api.endswith("/api") else api
    return f"{ui.rstrip('/')}/runs/flow-run/{flow_run_id}"


def _check_server(api_url: str) -> None:
    import httpx

    try:
        httpx.get(api_url.rstrip("/") + "/health", timeout=5.0).raise_for_status()
    except httpx.HTTPError as exc:
        raise IdflowError(f"the Prefect server at {api_url} does not answer ({type(exc).__name__})",
                          hint=SERVER_HINT) from None


@contextmanager
def _environment(overrides: Mapping[str, str | None] | None) -> Iterator[None]:
    """Set (and afterwards restore) environment variables the flow's config reads."""
    saved = {k: os.environ.get(k) for k in overrides or {}}
    try:
        for key, value in (overrides or {}).items():
            if value is not None:
                os.environ[key] = value
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_as_flow(flow_name: str, parameters: dict[str, Any], *,
                environ: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """Run one of the idflow flows as a flow run and return its result document.

    The flow run's UI URL goes to stderr as soon as it is running. A failed run
    raises what the flow raised (RefusedError, InvalidDefinitions, ...), so the
    CLI's exit codes stay the same as without --prefect. `environ` carries CLI
    overrides the flows read from the environment (CONDUCTOR_SERVER_URL,
    IDFLOW_TASKS_DIR): flow parameters never carry secrets or clients.
    """
    name = flow_name.replace("-", "_")
    if name not in FLOW_NAMES:
        raise IdflowError(f"no idflow flow named {flow_name!r}", hint=f"one of {', '.join(FLOW_NAMES)}")
    if not prefect_installed():  # the CLI installs without Prefect
        raise IdflowError("--prefect needs Prefect, and it is not installed in this environment",
                          hint=INSTALL_HINT + "; or drop --prefect to run in-process")
    api_url = prefect_api_url()
    if not api_url:
        raise IdflowError("--prefect needs a running Prefect server, and PREFECT_API_URL is not set",
                          hint=SERVER_HINT)
    _check_server(api_url)
    from idflow.flows.definitions import FLOWS

    def announce(flow, flow_run, state) -> None:
        print(f"Prefect flow run {flow_run.name!r}: {flow_run_url(flow_run.id, api_url)}", file=sys.stderr,
              flush=True)

    runnable = FLOWS[name].with_options(on_running=[announce])
    with _environment(environ):
        # None leaves a parameter's default, except where the operation requires it (adopt's from_project: None
        # is "stamped without a project").
        required = {p.name for p in OPERATIONS[name].params if p.required}
        state = runnable(**{k: v for k, v in parameters.items() if v is not None or k in required}, return_state=True)
    # A run that failed with an account (a partial write) carries its document in the
    # exception it ended with: the caller renders and exits as the in-process command does.
    # Any other failure re-raises.
    from idflow.flows.outcome import document_of

    result = state.result(raise_on_failure=False)
    document = document_of(result)
    if document is None and isinstance(result, BaseException):
        raise result
    if document is None:
        raise IdflowError(f"the {name} flow run ended {state.name} without a result")
    result = document
    return {**result, "flow_run": {"id": str(state.state_details.flow_run_id), "name": _run_name(state),
                                   "url": flow_run_url(state.state_details.flow_run_id, api_url)}}


def _run_name(state) -> str | None:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id).name


def run_for_cli(cli, flow_name: str, **parameters: Any) -> dict[str, Any]:
    """run_as_flow with the CLI's global options: --config as a parameter, --server-url and
    --tasks-dir through the environment variables the flow's config reads."""
    if cli.insecure:
        raise IdflowError("--insecure cannot be combined with --prefect",
                          hint="set verify_tls: false in the config file instead (the flow reads the config)")
    environ = {"CONDUCTOR_SERVER_URL": cli.server_url, "IDFLOW_TASKS_DIR": cli.tasks_dir}
    if cli.environment and cli.server_url:  # the flag must beat the entry's URL: select by IDFLOW_ENV, not by name
        environ["IDFLOW_ENV"] = cli.environment
    elif cli.environment:
        parameters = {**parameters, "environment": cli.environment}
    return run_as_flow(flow_name, {**parameters, "config_path": cli.config_path}, environ=environ)
