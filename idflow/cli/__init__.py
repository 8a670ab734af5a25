"""The `idflow` command line: thin shells over the core (parse, call, render)."""
