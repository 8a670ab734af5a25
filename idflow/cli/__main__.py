"""`python -m idflow.cli ...` is the same as the `idflow` command."""
from idflow.cli.app import run

run()
