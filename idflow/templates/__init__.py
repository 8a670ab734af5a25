"""Files `idflow init` writes into a user's repository (package data, read with importlib.resources)."""
