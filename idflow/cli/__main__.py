"""`python -m idflow.cli ...` is the same as the `idflow` command."""
from idflow.cli.entry import run

run()
