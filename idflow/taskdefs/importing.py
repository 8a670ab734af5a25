"""A task file for a definition that exists only on the server (pure): `tasks import` writes it.

Every owned field whose value differs from what the decorator would assume becomes a keyword, so
discovery reads the file back to exactly the server's owned fields and `tasks diff` shows nothing
to change. Fields idflow does not own (inputTemplate, schemas, ...) stay on the server: an upload
merges into the server copy and never drops them. The function raises NotImplementedError until
someone writes the worker, and the file says it was generated and needs review.
"""
from __future__ import annotations

import keyword
import re
from typing import Any

from idflow.model import fields as taskdef
from idflow.taskdefs.rewrite import python_literal

HEADER = '"""{name}: imported from the Conductor server by `idflow tasks import`; review it, then write the worker."""\n'
BODY = '''from idflow import worker_task


@worker_task(
{keywords}
)
def {function}(task_input: dict) -> dict:
    raise NotImplementedError({message})
'''


def function_name(name: str) -> str:
    """A Python identifier for a definition name that may not be one (`send-mail.v2` -> `send_mail_v2`)."""
    text = re.sub(r"\W+", "_", name.encode("ascii", "replace").decode()).strip("_") or "task"
    if text[0].isdigit() or keyword.iskeyword(text):
        text = "task_" + text
    return text


def import_keywords(server_copy: dict[str, Any]) -> dict[str, Any]:
    """The decorator keywords that reproduce the server copy's owned fields (name excluded)."""
    keywords: dict[str, Any] = {}
    for spec in taskdef.FIELDS:
        value = taskdef.normalise(spec.wire, server_copy.get(spec.wire))
        if spec.always_owned:
            if value != spec.default or spec.wire == "description":
                keywords[spec.keyword] = value
        elif value not in (None, [], ""):
            keywords[spec.keyword] = value
    built = taskdef.build(server_copy["name"], keywords)
    if "response_timeout_seconds" not in keywords or taskdef.field_differences(built, server_copy):
        keywords["response_timeout_seconds"] = taskdef.normalise(
            "responseTimeoutSeconds", server_copy.get("responseTimeoutSeconds"))
    if not keywords.get("description"):
        keywords.pop("description", None)
    return keywords


def render_task_file(server_copy: dict[str, Any]) -> str:
    name = server_copy["name"]
    keywords = {"task_definition_name": name, **import_keywords(server_copy)}
    lines = "\n".join(f"    {k}={python_literal(v, chr(34))}," for k, v in keywords.items())
    message = python_literal(f"{name} was imported from the server: write its worker here", chr(34))
    return HEADER.format(name=_safe_doc(name)) + BODY.format(keywords=lines, function=function_name(name),
                                                            message=message)


def _safe_doc(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
