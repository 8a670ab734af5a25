"""Workflow definitions as code: the files (`files`) and local vs server, plan, upload and
runs (`sync`). Event handlers, kept beside them, are `idflow.events`."""
