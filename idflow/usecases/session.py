"""What every use case works with: the config, a lazily built Conductor client, the state dir."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


@dataclass
class Session:
    """One invocation's config and Conductor client (built on first use, closed by the owner)."""

    config: Any
    make_client: Callable[[Any], Any] | None = None
    interruption: Any = None            # idflow.base.interrupt.Interruption: write loops stop on a signal
    # A protected environment's writes need this (the CLI's --yes; a flow run is started on purpose)
    # and a clean tree: idflow.project.protection. A callable, because commands know --yes only when they run.
    writes_confirmed: Callable[[], bool] = lambda: False
    _client: Any = field(default=None, repr=False)

    @property
    def client(self) -> Any:
        if self._client is None:
            if self.make_client is None:
                from idflow.conductor.client import client_from_config

                self.make_client = client_from_config
            from idflow.project.protection import GuardedClient

            self._client = GuardedClient(self.make_client(self.config), self._check_write)
        return self._client

    def _check_write(self) -> None:
        """Before the first write: a protected server's rules, and an identity no other config shares."""
        from idflow.project.identity import check_identity_unique
        from idflow.project.protection import check_protected_write

        if getattr(self.config, "protected", False):
            check_protected_write(self.config, confirmed=self.writes_confirmed())
        if hasattr(self.config, "identity"):
            check_identity_unique(self.config)

    @property
    def state_dir(self) -> Path:
        return state_dir(self.config)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def state_dir(config: Any) -> Path:
    """The state dir (cache, backups); it ignores itself so it never makes a Git tree dirty."""
    path = config.resolve(config.state_dir)
    ignore = path / ".gitignore"
    if not ignore.exists():
        try:
            path.mkdir(parents=True, exist_ok=True)
            ignore.write_text("# written by idflow: cache and backups stay out of Git\n*\n", encoding="utf-8")
        except OSError:
            pass  # read-only checkout: discovery still works without a cache
    return path
