"""Per-invocation CLI state: global options, lazily built config and client."""
from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator
import os

import typer

from idflow.base.errors import RefusedError
from idflow.cli.render.plain_table import PlainConsole, is_plain

if TYPE_CHECKING:  # rich is imported when something is printed, not at start-up
    from rich.console import Console


@dataclass
class CliState:
    """One invocation's global options, and the config, client and consoles made from them on first use."""

    config_path: str | None = None
    server_url: str | None = None
    tasks_dir: str | None = None
    json: bool = False
    verbose: bool = False
    insecure: bool = False
    no_color: bool = False             # --no-color; NO_COLOR in the environment does the same
    environment: str | None = None     # --env NAME
    command_params: dict = field(default_factory=dict)  # the running command's options (its --yes)
    _config: Any = None
    _client: Any = None
    interruption: Any = None           # idflow.base.interrupt.Interruption, installed by main()
    _bar: Any = field(default=None, repr=False)   # the progress bar on screen, hidden before a prompt
    _err: Any = field(default=None, repr=False)
    _out: Any = field(default=None, repr=False)

    @property
    def err(self) -> Console:
        """The stderr console, made on first use: a --json run never needs rich."""
        if self._err is None:
            self._err = self._console_for(stderr=True)
        return self._err

    @property
    def out(self) -> Console:
        """The stdout console. Where rich would print no escape code (not a terminal), a PlainConsole: tables
        of plain rows are written without loading rich, anything else goes to the rich Console it makes."""
        if self._out is None:
            self._out = self._console_for(stderr=False)
        return self._out

    def _console_for(self, *, stderr: bool) -> Console:
        def make() -> Console:
            return _console(stderr=stderr, no_color=self.no_color)

        return PlainConsole(make, stderr=stderr) if is_plain(sys.stderr if stderr else sys.stdout) else make()

    @property
    def rich_out(self) -> Console:
        """The stdout console as rich itself (a Live display needs it)."""
        out = self.out
        return out.rich if isinstance(out, PlainConsole) else out

    def config(self):
        if self._config is None:
            from idflow.project.config import load_config

            overrides = {"conductor_server_url": self.server_url, "tasks_dir": self.tasks_dir}
            if self.insecure:
                overrides["verify_tls"] = False
            self._config = load_config(self.config_path, overrides=overrides, environment=self.environment)
        return self._config

    def client(self):
        if self._client is None:
            from idflow.conductor.client import client_from_config

            self._client = client_from_config(self.config())
        return self._client

    def session(self):
        from idflow.usecases import Session

        return Session(self.config(), make_client=lambda _config: self.client(), interruption=self.interruption,
                       writes_confirmed=self.yes_given)

    def yes_given(self) -> bool:
        return bool(self.command_params.get("yes"))

    def run(self, flow_name: str, usecase: Callable[..., Any], outcome_type: Any, *, prefect: bool = False,
            flow_params: dict[str, Any] | None = None, document: bool = True,
            **kwargs: Any) -> tuple[Any, dict[str, Any] | None]:
        """Run one operation in-process or, with --prefect, as its flow: (outcome, JSON document).

        Both paths print the same document; the flow run only adds its `flow_run` key.
        `document=False`: an in-process run makes no document (None), for a text run that renders
        the outcome itself: a plan of 1,000 definitions costs more to serialise than to make.
        """
        from idflow.usecases.registry import OPERATIONS

        operation = OPERATIONS[flow_name]  # a command runs a declared operation, or fails in every test of it
        if prefect:
            from idflow.cli.prefect_bridge import run_for_cli
            from idflow.project.protection import check_protected_write

            if operation.writes and not (flow_params or {}).get("dry_run"):
                check_protected_write(self.config(), confirmed=self.yes_given())  # the flow cannot ask for --yes

            doc = run_for_cli(self, flow_name, **(flow_params or {}))
            return outcome_type.from_json(doc), doc
        outcome = usecase(self.session(), **kwargs)
        return outcome, outcome.to_json() if document else None

    @contextmanager
    def progress(self, label: str = "working") -> Iterator[Callable[[str, int | None, int | None], None] | None]:
        """A labelled progress bar on stderr while the block runs; yields the core's `Report` callback
        (None without a terminal, or with --json)."""
        if not self.progress_enabled():
            yield None
            return
        from idflow.cli.render.progress import LabelledBar

        with LabelledBar(self.err, label) as bar:
            self._bar = bar
            try:
                yield bar.report
            finally:
                self._bar = None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def emit(self, data: Any, render: Callable[[Console], None]) -> None:
        """One JSON document on stdout with --json, else the rich rendering."""
        if self.json:
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")
        else:
            render(self.out)

    def progress_enabled(self) -> bool:
        return not self.json and self.err.is_terminal

    @property
    def can_prompt(self) -> bool:
        """A terminal to ask on: stdin and stderr both a TTY."""
        return sys.stdin.isatty() and self.err.is_terminal

    def confirm_deletes(self, render_plan: Callable[[Any, Any], None], noun: str, *,
                        yes: bool) -> Callable[[Any], None]:
        """A deleting use case's confirm step: the plan on stderr (seen even with --json), then the question."""
        def confirm(plan: Any) -> None:
            render_plan(self.err, plan)
            self.confirm(f"Delete {len(plan.deletions)} {noun} from the server?", yes=yes)
        return confirm

    def confirm(self, question: str, *, yes: bool) -> None:
        """Ask before a destructive step; refuse (exit 3) without a TTY and without -y."""
        if yes:
            return
        if self._bar is not None:  # a prompt under a live bar would be redrawn over
            self._bar.hide()
        if not self.can_prompt:
            raise RefusedError("refusing to change the server without confirmation: no terminal to ask on",
                               hint="rerun with -y to confirm, or --dry-run to only look")
        if not typer.confirm(question, default=False, err=True):
            raise RefusedError("declined; nothing was changed")


def _console(stderr: bool, no_color: bool = False) -> Console:
    from rich.console import Console

    # rich's own NO_COLOR handling drops colours but keeps bold and dim: no colour system, no ANSI at all.
    plain = {"color_system": None} if no_color or os.environ.get("NO_COLOR") else {}
    # emoji=False: a name holding ":smile:" is shown as written (escaped markup does not stop emoji codes),
    # and no print loads rich's table of emoji.
    console = Console(stderr=stderr, highlight=False, emoji=False, **plain)
    if not console.is_terminal:  # piped or logged: do not squeeze lines into 80 columns
        console = Console(stderr=stderr, highlight=False, emoji=False, width=200, **plain)
    return console


def state(ctx: typer.Context, json_flag: bool = False) -> CliState:
    """The root CliState; a command-level --json also switches JSON on."""
    root = ctx.find_root()
    if root.obj is None:
        root.obj = CliState()
    current: CliState = root.obj
    current.command_params = dict(ctx.params)
    if json_flag:
        current.json = True
    return current

