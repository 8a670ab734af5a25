"""`idflow --version`: idflow's own version and those of what it runs on, without importing Prefect."""
from __future__ import annotations

import platform
import subprocess
import sys
from importlib import metadata

import idflow

# Runs the CLI and then says which heavy packages the process imported.
PROBE = ("import sys\n"
         "from idflow.cli.app import main\n"
         "code = main(['--version'])\n"
         "print('imported:', sorted(m for m in ('prefect', 'conductor') if m in sys.modules))\n"
         "sys.exit(code)\n")


def test_version_names_each_part_and_imports_no_prefect():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:4] == [f"idflow {idflow.__version__}",
                         f"conductor-python {metadata.version('conductor-python')}",
                         f"prefect {metadata.version('prefect')}",
                         f"python {platform.python_version()}"]
    assert lines[4] == "imported: []"


def test_the_package_and_its_metadata_agree_on_the_version():
    # pyproject.toml reads the version from idflow.__version__: one number, one place.
    assert metadata.version("idflow") == idflow.__version__


def test_prefects_client_alone_is_named_as_such(monkeypatch):
    """A CLI-only install may carry `prefect-client` (the API client, no server, no CLI) instead of `prefect`."""
    from idflow.cli import versions

    def version(name):
        if name == "prefect-client":
            return "3.9.0"
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(versions.metadata, "version", version)
    found = versions.versions()
    assert found["prefect"] == "3.9.0 (prefect-client)" and found["conductor-python"] == "not installed"
