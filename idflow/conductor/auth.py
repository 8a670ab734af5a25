"""Authentication: none (OSS), a static API key, or Orkes key id + secret -> token.

Every variant produces one header, `X-Authorization`. Secrets are held here and
nowhere else; `__repr__` never shows them.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Callable, Mapping

HEADER = "X-Authorization"


@dataclass
class Auth:
    """How idflow signs in to Conductor: none, a static API key, or an Orkes key id + secret (token kept)."""
    api_key: str | None = None
    key_id: str | None = None
    key_secret: str | None = None
    _token: str | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __repr__(self) -> str:
        return f"Auth(mode={self.mode!r})"

    @property
    def mode(self) -> str:
        if self.key_id and self.key_secret:
            return "key id + secret"
        return "api key" if self.api_key else "none"

    def secrets(self) -> list[str]:
        """Every secret value this auth holds, for redaction."""
        return [s for s in (self.api_key, self.key_secret, self._token) if s]

    def headers(self, fetch_token: Callable[[str, str], str]) -> dict[str, str]:
        if self.key_id and self.key_secret:
            with self._lock:
                if self._token is None:
                    self._token = fetch_token(self.key_id, self.key_secret)
                return {HEADER: self._token}
        return {HEADER: self.api_key} if self.api_key else {}

    def forget_token(self) -> bool:
        """Drop a cached token after a 401; True if there was one to refresh."""
        with self._lock:
            had = self._token is not None
            self._token = None
            return had


def auth_from_env(api_key_env_var: str, environ: Mapping[str, str] | None = None) -> Auth:
    env = os.environ if environ is None else environ

    def value(name: str) -> str | None:  # a key pasted with its newline is still the key
        return (env.get(name) or "").strip() or None

    return Auth(api_key=value(api_key_env_var), key_id=value("CONDUCTOR_AUTH_KEY"),
                key_secret=value("CONDUCTOR_AUTH_SECRET"))
