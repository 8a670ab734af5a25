"""Conductor worker tasks, one directory each: `<name>/<name>.py`, `__init__.py`, `requirements.txt`.

idflow reads these files statically (never imports them) to build the task
definitions; `idflow worker start` imports them to run the workers.
"""
