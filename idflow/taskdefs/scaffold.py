"""`idflow tasks new NAME`: the files of a new task dir, and writing them safely."""
from __future__ import annotations

import keyword
from pathlib import Path

from idflow.base.errors import IdflowError, RefusedError, InvalidTaskName
from idflow.discovery.walk import SKIP_DIRS
from idflow.model.validation import name_problem

TASK_TEMPLATE = '''"""{name}: what this task does, in one line.

The function's docstring is the definition's description on the server: say what it does.

Input arrives by name: conductor-python passes each task input key to the parameter
of the same name (keep the annotations; no `from __future__ import annotations`).
Called directly in tests: `{name}(text="hello")`.
"""
from idflow import worker_task


@worker_task(
    task_definition_name="{name}",
    retry_count=3,
    retry_logic="FIXED",  # FIXED | EXPONENTIAL_BACKOFF | LINEAR_BACKOFF
    retry_delay_seconds=60,
    backoff_scale_factor=1,
    timeout_seconds=600,  # one attempt; 0 = no limit
    timeout_policy="TIME_OUT_WF",  # RETRY | TIME_OUT_WF | ALERT_ONLY
    response_timeout_seconds=300,  # <= timeout_seconds
    total_timeout_seconds=0,  # all attempts; 0 = no limit
    concurrent_exec_limit=0,  # 0 = no limit
    rate_limit_per_frequency=0,  # 0 = no limit
    rate_limit_frequency_in_seconds=1,
    # poll_timeout_seconds=60,
    # owner_email="you@your-team",  # mandatory on some servers
    # input_keys=["text"],
    # output_keys=["result"],
)
def {name}(text: str = "") -> dict:
    """{description}"""
    return {{"result": text}}
'''

# The function's docstring becomes the definition's description on the server: what the code
# does, never a placeholder. The module docstring above is where the reminder to edit it lives.
DESCRIPTION = "Returns its input text as the result."
EXAMPLE_DESCRIPTION = "The example task idflow init wrote: returns its input text as the result."




# The longest name whose `NAME.py` still fits a 255-byte file name.
MAX_SCAFFOLD_NAME = 255 - len(".py")


def check_name(name: str) -> None:
    """Refuse any name that discovery or validation would reject later (nothing is written)."""
    shown = repr(name if len(name) <= 80 else name[:80] + "...")
    if not name.isascii() or not name.isidentifier() or keyword.iskeyword(name):
        reason = "must be an ASCII Python identifier (letters, digits, '_', not starting with a digit, not a keyword)"
    elif name in SKIP_DIRS:
        reason = "is a directory name discovery skips"
    elif len(name) > MAX_SCAFFOLD_NAME:
        reason = f"is longer than {MAX_SCAFFOLD_NAME} characters (the file {name[:10]}....py must fit a file name)"
    elif name_problem(name):
        reason = name_problem(name) or ""
    else:
        return
    raise InvalidTaskName(f"task name {shown} {reason}: it names the directory, the module, the function and "
                          "the task definition; nothing was written", hint="e.g. `idflow tasks new send_email`")


def render(name: str, *, description: str = DESCRIPTION) -> dict[str, str]:
    """The new task's files: path relative to the tasks dir -> content."""
    check_name(name)
    return {
        f"{name}/__init__.py": f'"""The {name} task (see {name}.py)."""\n',
        f"{name}/{name}.py": TASK_TEMPLATE.format(name=name, description=description),
        f"{name}/requirements.txt": "",
    }


def create_task(tasks_dir: Path, name: str, *, existing_names: frozenset[str] = frozenset()) -> list[Path]:
    """Write the new task dir; refuses (nothing written) when it or the task name exists."""
    files = render(name)
    target = Path(tasks_dir) / name
    if target.exists() or target.is_symlink():
        raise RefusedError(f"{target} already exists; nothing was written",
                           hint="pick another name, or edit the existing task")
    if name in existing_names:
        raise RefusedError(f"a task named {name!r} already exists in {tasks_dir}; nothing was written",
                           hint="task names must be unique: pick another name")
    target.mkdir(parents=True)
    written = []
    for rel, content in files.items():
        path = Path(tasks_dir) / rel
        path.write_text(content, encoding="utf-8")
        written.append(path)
    return written
