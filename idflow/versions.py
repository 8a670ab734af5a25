"""What `idflow --version` reports: read from installed metadata, never by importing Prefect (~1.7 s)."""
from __future__ import annotations

import platform
from importlib import metadata

from idflow import __version__

DISTRIBUTIONS = ("conductor-python", "prefect")


def versions() -> dict[str, str]:
    found = {"idflow": __version__}
    for name in DISTRIBUTIONS:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    found["python"] = platform.python_version()
    return found
