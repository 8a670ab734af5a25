"""`workflows import` and `workflows pull`, planned (pure), and the workflow ledger's hash.

Workflows carry no stamp, so, as for event handlers, this project's ledger on the server
(`idflow.engine.ledger`, kind `workflows`) records the hash of each version idflow wrote: the base of the
three-way state. The hash is of the normal form (`idflow.workflowdefs.sync.normalise`) without inline
`taskDefinition`s, which the server fills with every TaskDef default: an edit made on the server inside an
inline taskDefinition alone is not seen as a server edit.
"""
from __future__ import annotations

import hashlib
import itertools
import json
from pathlib import Path
from typing import Any, Iterable

from idflow.base.errors import IdflowError, InputFileError
from idflow.base.reading import DEFINITIONS, decode
from idflow.conductor.paths import addressable
from idflow.engine.ledger import Ledger
from idflow.pulling.files import safe_stem
from idflow.pulling.objects import NewFile, ObjectPull, Refusal, free_path, json_text
from idflow.pulling.threeway import CODE_CHANGED, EDITED, REASONS, SAME, pulled_value, three_way
from idflow.workflowdefs.files import LocalWorkflow, is_workflow_file, parse_workflow_text
from idflow.workflowdefs.sync import differences, label, normalise, version_of

LEDGER_KIND = "workflows"


def workflow_hash(definition: dict[str, Any]) -> str:
    text = json.dumps(_without_inline_taskdefs(normalise(definition)), sort_keys=True, separators=(",", ":"),
                      default=str)
    return hashlib.sha256(f"{version_of(definition)}:{text}".encode()).hexdigest()[:16]


def _without_inline_taskdefs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_inline_taskdefs(v) for k, v in value.items() if k != "taskDefinition"}
    if isinstance(value, list):
        return [_without_inline_taskdefs(v) for v in value]
    return value


def ledger_hashes(definitions: Iterable[dict[str, Any]]) -> dict[str, str]:
    return {label(str(d["name"]), version_of(d)): workflow_hash(d) for d in definitions}


def is_workflow_path(path: str) -> bool:
    return is_workflow_file(path.rsplit("/", 1)[-1])


def ledger_hashes_in(path: str, content: bytes) -> list[tuple[str, str]]:
    """(ledger label, hash) of each workflow version a file held at some commit (idflow.provenance.seen); a
    file that cannot be read holds none, so what it held stays unseen and is kept."""
    if not is_workflow_path(path) or len(content) > DEFINITIONS.max_bytes:
        return []
    try:
        found, _ = parse_workflow_text(decode(content, path), path)
    except InputFileError:
        return []
    return [(label(w.definition["name"], version_of(w.definition)), workflow_hash(w.definition)) for w in found]


def plan_workflow_pull(local: list[LocalWorkflow], remote: list[dict[str, Any]], ledger: Ledger | None,
                       names: Iterable[str] = ()) -> tuple[list[ObjectPull], list[Refusal]]:
    """(what to pull, what cannot be): every local workflow version edited on the server, or those named."""
    wanted = set(names)
    unknown = wanted - {w.definition["name"] for w in local}
    if unknown:
        raise IdflowError(f"no local workflow named {', '.join(sorted(unknown))}",
                          hint="'idflow workflows list --local' lists them")
    server = {(d.get("name"), version_of(d)): d for d in remote if isinstance(d, dict)}
    pulls: list[ObjectPull] = []
    refused: list[Refusal] = []
    for workflow in local:
        definition = workflow.definition
        name, version = definition["name"], version_of(definition)
        if wanted and name not in wanted:
            continue
        copy = server.get((name, version))
        if copy is None:
            continue
        base = ledger.entries.get(label(name, version)) if ledger is not None else None
        state = three_way(base, workflow_hash(definition), workflow_hash(copy),
                          equal=not differences(copy, definition))
        if state in (SAME, CODE_CHANGED):
            continue
        if state != EDITED:
            refused.append(Refusal(label(name, version), REASONS[state]))
        elif not workflow.path.lower().endswith(".json"):
            refused.append(Refusal(label(name, version), f"{workflow.path} is not a JSON file: only JSON files are "
                                                         "rewritten; bring the edit in by hand"))
        else:
            target = pulled_value(normalise(copy), definition, normalise(definition))
            changes = tuple(c.path for c in differences(definition, copy))
            pulls.append(ObjectPull(label(name, version), workflow.path, name,
                                    version if "version" in definition else None, target, changes))
    return pulls, refused


def plan_workflow_import(local: list[LocalWorkflow], remote: list[dict[str, Any]], workflows_dir: Path,
                         names: Iterable[str] = ()) -> tuple[list[NewFile], list[Refusal]]:
    """Server-only workflow versions into new files: workflows_dir/NAME/NAME.json (NAME.vN.json when the
    server has several versions), each as `imported_body`. All: only names no local file defines; named:
    their server-only versions."""
    wanted = list(dict.fromkeys(names))
    local_keys = {(w.definition["name"], version_of(w.definition)) for w in local}
    local_names = {k[0] for k in local_keys}
    by_name: dict[str, list[dict[str, Any]]] = {}
    for definition in remote:
        if isinstance(definition, dict) and isinstance(definition.get("name"), str):
            by_name.setdefault(definition["name"], []).append(definition)
    skipped: list[Refusal] = []
    files: list[NewFile] = []
    taken: set[str] = set()
    for name in wanted or sorted(n for n in by_name if n not in local_names):
        versions = sorted(by_name.get(name, []), key=version_of)
        fresh = [d for d in versions if (name, version_of(d)) not in local_keys]
        reason = ("not on the server" if not versions else "every version is already in a local file"
                  if not fresh else f"idflow cannot manage this name: {why}" if (why := addressable(name)) else None)
        if reason:
            skipped.append(Refusal(name, reason))
            continue
        stem = safe_stem(name)
        for definition in fresh:
            version = version_of(definition)
            base = stem if len(versions) == 1 else f"{stem}.v{version}"
            path = free_path((workflows_dir / stem / (f"{base}.json" if n == 1 else f"{base}.imported{n - 1}.json")
                              for n in itertools.count(1)), taken)
            files.append(NewFile(str(path), (label(name, version),), json_text(imported_body(definition))))
    return files, skipped


def imported_body(server_copy: dict[str, Any]) -> dict[str, Any]:
    """The file for a server copy: what the server would fill in left out (timestamps, defaults, empty lists
    and maps), so it reads as written by hand; name, description and version first."""
    rest = normalise(server_copy)
    head = {"name": rest.pop("name")}
    if "description" in rest:
        head["description"] = rest.pop("description")
    return {**head, "version": version_of(server_copy), **rest}
