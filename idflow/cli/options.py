"""Options shared by many commands."""
from __future__ import annotations

import typer

JSON_OPTION = typer.Option(False, "--json", help="Print exactly one JSON document on stdout.")
VERBOSE_OPTION = typer.Option(False, "--verbose", "-v", help="Show more detail.")
YES_OPTION = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
# A command that never asks still writes: to a protected environment only with --yes (CliState.yes_given).
OVERWRITE_OPTION = typer.Option(False, "--overwrite-server-edits",
                                help="Replace definitions edited on the server since idflow uploaded them.")
PROTECTED_YES_OPTION = typer.Option(False, "--yes", "-y", help="Confirm a write to a protected environment.")
PREFECT_OPTION = typer.Option(False, "--prefect",
                              help="Run as a Prefect flow run on the server in PREFECT_API_URL (shown in its UI).")
