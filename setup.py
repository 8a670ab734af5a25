"""Everything is in pyproject.toml except the one file below.

A user's repository often has its own `idflow/__init__.py` (beside idflow/tasks/). Where
Python puts that repository first on sys.path (Prefect loading a deployment's entrypoint
with the working directory first, `python -m`, `python -c`), that folder would shadow
the installed package: `idflow.flows` and `from idflow import worker_task` then fail.
`idflow.pth` imports the installed package when the interpreter starts, before any
working directory is on sys.path; later imports of `idflow` find it in sys.modules.
(`import idflow` is cheap: the package's __init__ imports nothing.)
"""
from __future__ import annotations

import os

from setuptools import setup
from setuptools.command.build_py import build_py

PTH_NAME = "idflow.pth"
PTH_LINE = "import idflow\n"


class BuildPyWithPth(build_py):
    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):  # a checkout is its own idflow: nothing to shadow
            target = os.path.join(self.build_lib, PTH_NAME)
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(PTH_LINE)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        outputs = super().get_outputs(include_bytecode)
        if not getattr(self, "editable_mode", False):
            outputs.append(os.path.join(self.build_lib, PTH_NAME))
        return outputs


setup(cmdclass={"build_py": BuildPyWithPth})
