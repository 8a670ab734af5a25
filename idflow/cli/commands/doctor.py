"""`idflow doctor`: is everything in place? One line per check, with what to do."""
from __future__ import annotations

from dataclasses import asdict, dataclass

import typer

from idflow.cli.options import JSON_OPTION
from idflow.cli.state import state
from idflow.base.errors import EXIT_ERROR, AuthFailed, ConductorError, ConfigError
from idflow.project.identity import IDENTITY_HINT, identity_clashes


@dataclass
class Check:
    """One line of `idflow doctor`: what was checked, whether it passed, what was found and what to do."""
    name: str
    ok: bool
    detail: str
    fix: str = ""


def run_checks(cli) -> list[Check]:
    checks: list[Check] = []
    try:
        config = cli.config()
    except ConfigError as exc:
        return [Check("config", False, exc.message, exc.hint or "fix the config file")]
    where = config.path or "no config file (defaults)"
    form = {"flat": "flat keys (conductor_server_url)", "nested": "ID Flow nested keys (conductor.server_url)",
            "defaults": "defaults"}[config.source_form]
    checks.append(Check("config", True, f"{where}, read as {form}"))
    checks.extend(context_checks(config))
    from idflow.conductor.client import ConductorClient, RetryPolicy
    from idflow.conductor.auth import auth_from_env

    auth = auth_from_env(config.conductor_api_key_env_var)
    client = ConductorClient(config.api_url, auth=auth, timeout=3.0, verify=config.verify_tls,
                             retry=RetryPolicy(max_retries=1, total_budget=2.0))
    with client:
        try:
            client.health()
            version = client.server_version() or "unknown version"
            checks.append(Check("server", True, f"{config.safe_api_url} answers (Conductor {version})"))
        except ConductorError as exc:
            checks.append(Check("server", False, exc.message, exc.hint or ""))
        else:
            try:
                count = len(client.list_taskdefs())
                checks.append(Check("auth", True, f"accepted ({auth.mode}); {count} task definitions visible"))
                checks.append(workers_check(config, client))
            except AuthFailed as exc:
                checks.append(Check("auth", False, exc.message, exc.hint or ""))
            except ConductorError as exc:
                checks.append(Check("auth", False, exc.message, exc.hint or ""))
    tasks_dir = config.resolve(config.tasks_dir)
    if tasks_dir.is_dir():
        checks.append(Check("tasks dir", True, f"{config.tasks_dir} exists"))
    else:
        checks.append(Check("tasks dir", False, f"{config.tasks_dir} not found (from {tasks_dir})",
                            "run idflow from the project root, set tasks_dir, or 'idflow tasks new NAME'"))
    return checks


def workers_check(config, client) -> Check:
    """One line of `tasks status`: how many of this project's tasks have a polling worker, how many are unserved."""
    from idflow.usecases import Session, task_status

    try:
        report = task_status(Session(config, make_client=lambda _config: client))
    except ConductorError as exc:
        return Check("workers", True, f"unknown: {exc.message}")
    counts = report.counts
    unserved = [t.name for t in report.of("unserved") if t.local]   # this project's tasks only
    detail = (f"{counts['served']} of {counts['local']} local task(s) have a polling worker; "
              f"{len(unserved)} unserved (queued work, no poll for {report.thresholds.unserved_after_seconds}s)")
    fix = f"start a worker: 'idflow worker start {' '.join(unserved[:5])}'; see 'idflow tasks status'" if unserved else ""
    return Check("workers", True, detail, fix)


def context_checks(config) -> list[Check]:
    """Which environment, which server URL and where it came from, and who this project is."""
    if config.environment:
        protected = ", protected: writes need --yes and a clean tree" if config.protected else ""
        env = Check("environment", True, f"{config.environment} (selected by {config.environment_source}{protected})")
    else:
        known = f"; known: {', '.join(config.environments)} (--env NAME)" if config.environments else ""
        env = Check("environment", True, f"none selected{known}")
    kind = config.origin_kind("conductor_server_url")
    which = {"flag": " --server-url", "environment variable": " CONDUCTOR_SERVER_URL", "default": "",
             "environment entry": f" {config.environment} in {config.path}", "config key": f" in {config.path}"}[kind]
    url = Check("server url", True, f"{config.safe_api_url} from {kind}{which}")
    ignored = [Check("overridden", True, why) for why in config.ignored.values()]
    identity = config.identity
    if identity.value is None:
        who = Check("identity", True, "none: purge --orphaned and sync --prune refuse; uploads are stamped "
                    "without a project", IDENTITY_HINT)
    else:
        clashes = identity_clashes(identity, config.base_dir, config.path)
        who = (Check("identity", False, f"{identity.value} (from {identity.source}) is shared with "
                     f"{', '.join(clashes[:5])}: every write refuses",
                     "give each config/idflow.yml its own `project:`") if clashes
               else Check("identity", True, f"{identity.value} (from {identity.source})"))
    return [env, url, *ignored, who]


def context_json(config) -> dict:
    """doctor --json's account of the resolved config: the same one every command reads."""
    return {"environment": {"name": config.environment, "selected_by": config.environment_source,
                            "protected": config.protected, "known": list(config.environments)},
            "server_url": {"url": config.safe_api_url, "source": config.origin_kind("conductor_server_url"),
                           "origin": config.origins.get("conductor_server_url", "default"),
                           "ignored": config.ignored.get("conductor_server_url")},
            "identity": config.identity.to_json()}


def doctor(ctx: typer.Context, json_: bool = JSON_OPTION) -> None:
    """Check config, environment, server URL, identity, server, auth and the tasks directory; say what to fix."""
    cli = state(ctx, json_)
    checks = run_checks(cli)
    ok = all(c.ok for c in checks)
    context = {}
    if cli._config is not None:
        context = context_json(cli._config)
        context["server_url"]["answers"] = next((c.ok for c in checks if c.name == "server"), False)

    def render(console) -> None:
        from idflow.cli.render.text import safe as escape  # foreign text: no control characters, no markup

        for c in checks:
            mark = "[green]ok[/]  " if c.ok else "[red]FAIL[/]"
            console.print(f"{mark} [bold]{c.name:<11}[/] {escape(c.detail)}")
            if c.fix:
                console.print(f"            [dim]fix:[/] {escape(c.fix)}")

    cli.emit({"ok": ok, **context, "checks": [asdict(c) for c in checks]}, render)
    if not ok:
        raise typer.Exit(EXIT_ERROR)
