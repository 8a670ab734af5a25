"""What `idflow --version` reports: read from installed metadata, never by importing Prefect (~1.7 s)."""
from __future__ import annotations

import platform
from importlib import metadata

from idflow import __version__

DISTRIBUTIONS = ("conductor-python", "prefect")
# Prefect's API client without the server and the CLI installs as its own distribution.
ALSO_AS = {"prefect": ("prefect-client",)}


def _version(name: str) -> str:
    for dist in (name, *ALSO_AS.get(name, ())):
        try:
            found = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
        return found if dist == name else f"{found} ({dist})"
    return "not installed"


def versions() -> dict[str, str]:
    found = {"idflow": __version__}
    for name in DISTRIBUTIONS:
        found[name] = _version(name)
    found["python"] = platform.python_version()
    return found
