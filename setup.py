"""Everything is in pyproject.toml except the one file below.

A user's repository often has its own `idflow/__init__.py` (beside idflow/tasks/). Where
Python puts that repository on sys.path before site-packages (Prefect loading a deployment's
entrypoint with the working directory first, Prefect 3.9's flow-run process with the
working directory in PYTHONPATH, `python -m`, `python -c`), that folder would shadow the
installed package: `idflow.flows` and `from idflow import worker_task` then fail.
`idflow.pth` runs when the interpreter starts: it imports the idflow that sits beside it in
site-packages, whatever comes earlier on sys.path, so every later `import idflow` finds it
in sys.modules. (Cheap: a few stat calls, and the package's __init__ imports nothing.)
"""
from __future__ import annotations

import os

from setuptools import setup
from setuptools.command.build_py import build_py

PTH_NAME = "idflow.pth"
# site.py executes a .pth line that starts with "import"; it must be one line.
PTH_LINE = (
    "import os, sys, importlib.util; from importlib.machinery import PathFinder; "
    "_idflow = 'idflow' not in sys.modules and PathFinder.find_spec('idflow', "
    "[d for d in sys.path if os.path.isfile(os.path.join(d, 'idflow.pth'))]); "
    "_idflow and sys.modules.setdefault('idflow', importlib.util.module_from_spec(_idflow)); "
    "_idflow and _idflow.loader.exec_module(sys.modules['idflow'])\n"
)


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
