"""What every use case works with: the config, a lazily built Conductor client, the state dir."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from idflow.project.identity import check_identity_unique
from idflow.usecases.local import state_dir
from idflow.project.protection import GuardedClient, check_protected_write


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
            self._client = GuardedClient(self.make_client(self.config), self._check_write)
        return self._client

    def _check_write(self) -> None:
        """Before the first write: a protected server's rules, and an identity no other config shares."""
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
