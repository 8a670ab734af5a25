"""Entry point: global options, command registration, errors -> exit codes."""
from __future__ import annotations

import json
import os
import sys
import traceback
from typing import Optional

import typer

from idflow import __version__
from idflow.cli.state import CliState, _console
from idflow.base.errors import EXIT_ERROR, EXIT_REFUSED, EXIT_USAGE, IdflowError
from idflow.base.interrupt import Interruption

from idflow.cli import groups  # the commands, declared; each group its own Typer
from idflow.cli.startup import (COMPLETE_VAR, ClickException, UsageError, completion_init, plain_help,
                                plain_values_without_pydantic, root_command)

app = typer.Typer(cls=groups.ROOT_GROUP, no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Conductor task definitions as code: list, diff, upload, purge, roll back.")


def _version(value: bool) -> None:
    if value:
        from idflow.cli.versions import versions

        typer.echo("\n".join(f"{name} {version}" for name, version in versions().items()))
        raise typer.Exit()


@app.callback()
def root(ctx: typer.Context,
         config: Optional[str] = typer.Option(None, "--config", "-c", help="Config file (default config/idflow.yml)."),
         server_url: Optional[str] = typer.Option(None, "--server-url", help="Conductor API URL, overrides config."),
         env: Optional[str] = typer.Option(None, "--env", help="Environment under `environments:` in the config "
                                           "(default: IDFLOW_ENV, then default_environment)."),
         tasks_dir: Optional[str] = typer.Option(None, "--tasks-dir", help="Task files directory, overrides config."),
         json_: bool = typer.Option(False, "--json", help="Print exactly one JSON document on stdout."),
         verbose: bool = typer.Option(False, "--verbose", "-v", help="More detail; tracebacks on errors."),
         insecure: bool = typer.Option(False, "--insecure", help="Do not verify TLS certificates (explicit opt-in)."),
         no_color: bool = typer.Option(False, "--no-color", help="No colour and no ANSI sequences (as NO_COLOR=1 does)."),
         version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the versions of idflow, conductor-python, Prefect and Python.")):
    ctx.obj = CliState(config_path=config, server_url=server_url, tasks_dir=tasks_dir, environment=env, json=json_,
                       verbose=verbose, insecure=insecure, no_color=no_color,
                       interruption=_INTERRUPTION[0] if _INTERRUPTION else None)
    _LAST_STATE[:] = [ctx.obj]


_LAST_STATE: list[CliState] = []
_INTERRUPTION: list[Interruption] = []  # this invocation's signal handling, made by main()  # this invocation's state: which secrets to keep out of a crash report


for name, group in groups.GROUPS.items():
    app.add_typer(group, name=name)

plain_help(app)
plain_values_without_pydantic()


def main(argv: list[str] | None = None) -> int:
    command = root_command(app)  # groups are built when a command line names them
    args = sys.argv[1:] if argv is None else argv
    json_mode = "--json" in args
    verbose = "-v" in args or "--verbose" in args
    interruption = Interruption()
    _INTERRUPTION[:] = [interruption]
    restore_signals = interruption.install()
    if os.environ.get(COMPLETE_VAR):  # the shell asks for completions: typer's protocol, not click's
        completion_init()  # typer's completion classes read the words the scripts pass; click's own do not
    try:
        # Without standalone mode click returns (not raises) the code of typer.Exit.
        code = command.main(args=args, prog_name="idflow", standalone_mode=False)
        return interruption.exit_code or (code if isinstance(code, int) else 0)
    except typer.Exit as exc:
        # A write loop stopped by a signal has printed its account: exit 128+signal.
        return interruption.exit_code or exc.exit_code
    except typer.Abort:
        _fail("aborted", None, json_mode, "Aborted")
        return EXIT_REFUSED
    except ClickException as exc:
        exc.show()
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
    except IdflowError as exc:
        _fail(exc.message, exc.hint, json_mode, type(exc).__name__, issues=getattr(exc, "issues", None),
              shown=getattr(exc, "shown", False))
        if verbose:
            sys.stderr.write(_redact(traceback.format_exc()))
        return exc.exit_code
    except KeyboardInterrupt:
        _fail("interrupted", None, json_mode, "Interrupted")
        return 130
    except Exception as exc:  # a bug: still one JSON document, a traceback only with -v, never a secret
        _fail(_redact(f"internal error: {type(exc).__name__}: {exc}")[:500],
              "this is a bug in idflow; rerun with -v for the traceback and report it", json_mode, "InternalError")
        if verbose:
            sys.stderr.write(_redact(traceback.format_exc()))
        return EXIT_ERROR
    finally:
        restore_signals()


def _redact(text: str) -> str:
    from idflow.conductor.auth import auth_from_env  # only an error is redacted

    state = _LAST_STATE[0] if _LAST_STATE else None
    secrets = list(state._client.auth.secrets()) if state is not None and state._client is not None else []
    var = getattr(getattr(state, "_config", None), "conductor_api_key_env_var", "CONDUCTOR_API_KEY")
    secrets += auth_from_env(var).secrets()  # also when the failure came before a client was built
    for secret in sorted(set(secrets), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _fail(message: str, hint: str | None, json_mode: bool, kind: str, *, issues=None, shown: bool = False) -> None:
    from idflow.cli.render.text import safe as escape  # foreign text: no control characters, no markup

    console = _console(stderr=True, no_color=bool(_LAST_STATE and _LAST_STATE[0].no_color))
    if issues and not shown:  # e.g. the task files behind "N problem(s) in the task files"
        from idflow.cli.render.tasks import render_issues

        render_issues(console, issues)
    console.print(f"[bold red]error:[/] {escape(message)}")
    if hint:
        console.print(f"[dim]hint:[/] {escape(hint)}")
    if json_mode:
        error = {"type": kind, "message": message, "hint": hint}
        if issues:
            error["issues"] = [{"path": i.path, "line": i.line, "message": i.message,
                                "severity": getattr(i, "severity", "error")} for i in issues]
        sys.stdout.write(json.dumps({"error": error}) + "\n")


def run() -> None:
    sys.exit(main())


if __name__ == "__main__":  # `python -m idflow.cli.app`: run the registered copy, not this one
    from idflow.cli.app import run as registered_run

    registered_run()
