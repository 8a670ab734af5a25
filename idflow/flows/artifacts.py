"""Markdown for the Prefect UI: plans and results as tables.

Pure functions on the flows' plain-data documents (no Prefect import), so they are
tested directly. Every table row says *why*: the fields that differ, the workflows
that keep a definition alive, the server's error. Nothing here sees a secret: the
documents hold definitions, names and paths only.
"""
from __future__ import annotations

import json
from typing import Any, Iterable
from urllib.parse import urlsplit, urlunsplit

from idflow.monitoring.format import HEADERS, cells, window
from idflow.monitoring.report import StatusReport

MAX_ROWS = 200          # per table; the rest is counted, not listed
MAX_CELL = 160          # characters per cell
MAX_NAMES = 100         # names listed inline (unchanged tasks)

WHY = {
    "create": "not on the server",
    "unchanged": "the server matches the task file",
    "orphaned": "uploaded by this project; its task file is gone (at HEAD too)",
    "foreign": "on the server only; not uploaded by idflow",
}
EDITS = {"edited_on_server": "edited on the server since idflow uploaded it; not reverted without "
                             "overwrite_server_edits",
         "conflict": "changed on the server and in the code since idflow uploaded it"}


def cell(value: Any) -> str:
    """One table cell: no pipes or newlines to break the row, bounded length."""
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def table(headers: list[str], rows: Iterable[list[Any]]) -> str:
    rows = list(rows)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows[:MAX_ROWS]]
    if len(rows) > MAX_ROWS:
        lines.append(f"\n… and {len(rows) - MAX_ROWS} more rows (see the flow run's return value)")
    return "\n".join(lines)


def safe_url(url: str) -> str:
    """A server URL without any user:password part."""
    parts = urlsplit(url or "")
    if parts.username or parts.password:
        parts = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
    return urlunsplit(parts)


def _names(names: list[str]) -> str:
    shown = ", ".join(f"`{n}`" for n in names[:MAX_NAMES])
    return shown + (f" … and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _changes(item: dict[str, Any]) -> str:
    return "; ".join(f"{c['field']}: {json.dumps(c['old'], default=str)} → {json.dumps(c['new'], default=str)}"
                     for c in item.get("changes") or [])


def drift_summary(counts: dict[str, int], *, drift: bool) -> str:
    """What a diff found, in one line: the plan artifact's title and a Drift state's message.

    `drift` comes from the use case (the CLI's exit 4), never recomputed here; the orphans are
    counted as `tasks diff` counts them, whether or not they make drift.
    """
    orphaned = counts.get("orphaned", 0)
    if not drift:
        return "In sync" + (f" ({orphaned} orphaned)" if orphaned else "")
    edits = [f"{counts[key]} {label}" for key, label in (("edited_on_server", "edited on the server"),
                                                         ("conflict", "in conflict")) if counts.get(key)]
    return (f"Drift: {counts.get('create', 0)} to create, {counts.get('update', 0)} to update, {orphaned} orphaned"
            + "".join(f", {e}" for e in edits))


def plan_markdown(plan: dict[str, Any], *, title: str = "idflow plan", dirty: list[str] = ()) -> str:
    """A plan (Plan.to_json()): what an upload would create or update, and what is only on the server."""
    counts = plan.get("counts", {})
    items = plan.get("items", [])
    lines = [f"# {title}", "",
             f"Server: `{safe_url(plan.get('server_url', ''))}` · planned at {plan.get('created_at', '?')}"
             + (" · **forced** (unchanged definitions are rewritten)" if plan.get("forced") else ""), "",
             f"**{counts.get('create', 0)} to create, {counts.get('update', 0)} to update**, "
             + "".join(f"**{counts[key]} {key.replace('_', ' ')}**, " for key in EDITS if counts.get(key))
             + f"{counts.get('unchanged', 0)} unchanged, {counts.get('orphaned', 0)} orphaned, "
             + (f"{counts['uncertain']} uncertain (kept), " if counts.get("uncertain") else "")
             + f"{counts.get('foreign', 0)} foreign", ""]
    rows = []
    for item in items:
        action = item["action"]
        if action == "unchanged":
            continue
        if action == "update":
            why = _changes(item)
        elif action in EDITS:
            why = f"{EDITS[action]}: {_changes(item)} (server -> code)"
        elif action == "uncertain":
            why = f"kept: {item.get('reason') or ''}"
        elif action == "foreign" and item.get("owner"):
            why = f"uploaded by idflow project {item['owner']}"
        else:
            why = WHY.get(action, "")
        rows.append([item["name"], action, why, item.get("source") or ""])
    if rows:
        lines += [table(["Task", "Action", "Why", "Source"], rows), ""]
    unchanged = [i["name"] for i in items if i["action"] == "unchanged"]
    if unchanged:
        lines += [f"Unchanged: {_names(unchanged)}", ""]
    if dirty:
        lines += [f"⚠ Uncommitted changes (provenance says +dirty): {_names(list(dirty))}", ""]
    if not items:
        lines.append("No task definitions on either side.")
    return "\n".join(lines).rstrip() + "\n"


def upload_result_markdown(doc: dict[str, Any], *, title: str = "idflow upload result") -> str:
    """The upload document (UploadOutcome.to_json() plus `verified`)."""
    if doc.get("dry_run"):
        return (f"# {title}\n\nDry run: nothing was written. Would create {len(doc.get('would_create', []))}, "
                f"would update {len(doc.get('would_update', []))}.\n")
    rows = [[n, "created", "written and read back"] for n in doc.get("created", [])]
    rows += [[n, "updated", "written and read back"] for n in doc.get("updated", [])]
    rows += [[f["name"], "failed", "; ".join(f.get("errors", []))] for f in doc.get("failed", [])]
    rows += [[n, "not attempted", "an earlier batch failed"] for n in doc.get("not_attempted", [])]
    verified = doc.get("verified") or {}
    rows += [[m["name"], "verify failed", "; ".join(m.get("errors", []))] for m in verified.get("mismatched", [])]
    ok = not (doc.get("failed") or doc.get("not_attempted") or verified.get("mismatched"))
    lines = [f"# {title}", "",
             f"**{'OK' if ok else 'FAILED'}**: {len(doc.get('created', []))} created, "
             f"{len(doc.get('updated', []))} updated, {len(doc.get('unchanged', []))} unchanged, "
             f"{len(doc.get('failed', []))} failed", ""]
    if rows:
        lines += [table(["Task", "Outcome", "Why"], rows), ""]
    if doc.get("unchanged"):
        lines += [f"Unchanged (nothing written): {_names(doc['unchanged'])}", ""]
    if doc.get("backup"):
        lines += [f"Backup of the overwritten server copies: `{doc['backup']}` (`idflow tasks restore FILE`)", ""]
    if doc.get("dirty"):
        lines += [f"⚠ Uploaded with uncommitted changes: {_names(doc['dirty'])}", ""]
    if doc.get("provenance_missing"):
        lines += ["⚠ Not in a Git repository: the definitions carry no commit.", ""]
    return "\n".join(lines).rstrip() + "\n"


def purge_plan_markdown(purge: dict[str, Any], *, title: str = "idflow purge plan") -> str:
    """A purge plan (PurgePlan.to_json() shape): what goes, what stays and why."""
    rows = []
    for d in purge.get("delete", []):
        why = d["reason"]
        if d.get("forced_uses"):
            why += "; FORCED despite use by " + ", ".join(d["forced_uses"])
        if d.get("note"):
            why += f"; {d['note']}"
        rows.append([d["name"], "delete", why])
    # Definitions idflow never uploaded are many on a shared server and all kept for one reason:
    # counted in one line, so the rows that say why something was kept stay in the table.
    foreign = [s["name"] for s in purge.get("skipped", []) if s["reason"].startswith("foreign")]
    for s in purge.get("skipped", []):
        if not s["reason"].startswith("foreign"):
            why = s["reason"] + (f" ({', '.join(s['used_by'][:10])})" if s.get("used_by") else "")
            rows.append([s["name"], "keep", why])
    lines = [f"# {title}", "",
             f"**{len(purge.get('delete', []))} to delete**, {len(purge.get('skipped', []))} kept", ""]
    if rows:
        lines += [table(["Task", "Action", "Why"], rows), ""]
    elif not foreign:
        lines += ["Nothing orphaned on the server.", ""]
    if foreign:
        lines += [f"Kept, not uploaded by idflow (foreign): {len(foreign)}: {_names(foreign)}", ""]
    if purge.get("uncertain"):
        lines += ["Usage uncertain (tasks picked at run time): " + "; ".join(purge["uncertain"][:20]), ""]
    return "\n".join(lines).rstrip() + "\n"


def purge_result_markdown(doc: dict[str, Any], *, title: str = "idflow purge result") -> str:
    if doc.get("dry_run"):
        return (f"# {title}\n\nDry run: nothing was deleted. Would delete: "
                f"{_names(doc.get('would_delete', [])) or 'nothing'}.\n")
    rows = [[n, "deleted", "backed up, then deleted"] for n in doc.get("deleted", [])]
    rows += [[f["name"], "failed", "; ".join(f.get("errors", []))] for f in doc.get("failed", [])]
    rows += [[f["name"], "unknown", "; ".join(f.get("errors", []))] for f in doc.get("unknown", [])]
    rows += [[n, "not attempted", "stopped before it was tried"] for n in doc.get("not_attempted", [])]
    rows += [[s["name"], "kept", s["reason"]] for s in doc.get("skipped", [])]
    lines = [f"# {title}", "", f"**{len(doc.get('deleted', []))} deleted**, {len(doc.get('failed', []))} failed, "
             f"{len(doc.get('skipped', []))} kept", ""]
    if rows:
        lines += [table(["Task", "Outcome", "Why"], rows), ""]
    if doc.get("backup"):
        lines += [f"Backup of the deleted definitions: `{doc['backup']}` (`idflow tasks restore FILE`)", ""]
    return "\n".join(lines).rstrip() + "\n"


def discovery_markdown(doc: dict[str, Any], *, title: str = "idflow local tasks") -> str:
    tasks, errors = doc.get("tasks", []), doc.get("errors", [])
    lines = [f"# {title}", "", f"**{len(tasks)} task(s)** in `{doc.get('tasks_dir', '?')}`, "
             f"{len(errors)} problem(s)", ""]
    if tasks:
        rows = [[t["name"], "yes" if t.get("valid") else "no", f"{t['path']}:{t['line']}"] for t in tasks]
        lines += [table(["Task", "Valid", "Source"], rows), ""]
    if errors:
        lines += ["## Problems", "", problems_table(errors), ""]
    if doc.get("warnings"):
        lines += ["## Warnings", "", problems_table(doc["warnings"]), ""]
    return "\n".join(lines).rstrip() + "\n"


def problems_table(issues: list[dict[str, Any]]) -> str:
    return table(["Where", "Problem"], [[f"{i.get('path', '?')}:{i.get('line') or '?'}", i.get("message", "")]
                                        for i in issues])


def refusal_markdown(kind: str, message: str, hint: str | None = None, issues: list[dict[str, Any]] = ()) -> str:
    """Why a run stopped before writing anything."""
    lines = [f"# idflow: {kind}", "", f"**Nothing was changed.** {message}", ""]
    if hint:
        lines += [f"Hint: {hint}", ""]
    if issues:
        lines += [problems_table(list(issues)), ""]
    return "\n".join(lines).rstrip() + "\n"


def status_markdown(doc: dict[str, Any]) -> str:
    """`tasks status` as the `idflow-status` artifact: the summary as title, then the same columns
    as the terminal table (`n/a` where the server gave nothing, never 0), rows needing attention first."""
    report = StatusReport.from_json(doc)
    t = report.thresholds
    lines = [f"# {report.summary()}", "",
             f"Window {window(t.window_seconds)}; unserved: queued work and no poll for "
             f"{window(t.unserved_after_seconds)}; failing: over {t.failing_above * 100:g}% failed; "
             f"execution search: {report.search}.", ""]
    if report.search_note:
        lines += [f"> Note: {report.search_note}", ""]
    ordered = sorted(report.tasks, key=lambda task: (not task.attention, task.name))
    rows = []
    for task in ordered:  # attention second: the UI scrolls a wide table, and this column matters most
        row = cells(task)
        rows.append([row[0], "**" + row[-1] + "**" if task.attention else "", *row[1:-1]])
    headers = [HEADERS[0], HEADERS[-1], *HEADERS[1:-1]]
    lines.append(table(headers, rows) if rows else "No task types: nothing local, on the server, polled or queued.")
    return "\n".join(lines) + "\n"


def server_edits_markdown(doc: dict[str, Any]) -> str:
    """What was edited on the server, what the sync's policy did with it, and the branch it went to."""
    policy = doc["policy"]
    lines = [f"# idflow: definitions edited on the server (policy: {policy})", ""]
    branch = doc.get("branch")
    if branch:
        verb = "pushed to" if branch["pushed"] else "already on"
        lines += [f"The pulled files were **{verb} branch `{cell(branch['branch'])}`** (commit "
                  f"`{branch['commit'][:12]}`), never to the deployed branch: review and merge it to keep them.", ""]
    elif doc["edits"] and doc.get("dry_run"):
        lines += ["A dry run: nothing was written or pushed.", ""]
    if doc["edits"]:
        lines += [table(["kind", "name", "file", "pulled"],
                        ([e["kind"], e["name"], e["path"], e["changes"]] for e in doc["edits"])), ""]
    if doc["refused"]:
        lines += ["**Not pulled or overwritten:**", "",
                  table(["kind", "name", "why"], ([r["kind"], r["name"], r["reason"]] for r in doc["refused"])), ""]
    return "\n".join(lines).rstrip() + "\n"


def account_markdown(title: str, doc: dict[str, Any]) -> str:
    """Any write's document: what each action did (created, deleted, restored, written, ...), what failed,
    what is unknown and what was not attempted, the backup; a dry run says what it would do."""
    fixed = {"failed", "unknown", "not_attempted", "skipped", "unchanged", "dirty", "would_change"}
    lines = [f"# {title}", ""]
    if doc.get("dry_run"):
        lines += ["Dry run: nothing was changed.", ""]
    rows = [[n if isinstance(n, str) else cell(n), key.replace("_", " "), ""]
            for key, value in doc.items() if key not in fixed and isinstance(value, list)
            for n in value if isinstance(n, (str, dict)) and value]
    rows += [[f.get("name", ""), key, "; ".join(f.get("errors", []))] for key in ("failed", "unknown")
             for f in doc.get(key) or [] if isinstance(f, dict)]
    rows += [[n, "not attempted", "stopped before it was tried"] for n in doc.get("not_attempted") or []]
    rows += [[s.get("name", ""), "kept", s.get("reason", "")] for s in doc.get("skipped") or [] if isinstance(s, dict)]
    lines += [table(["Name", "Outcome", "Why"], rows) if rows else "Nothing to do.", ""]
    if doc.get("backup"):
        lines += [f"Backup of what was overwritten or deleted: `{doc['backup']}`", ""]
    for key, value in doc.items():
        if isinstance(value, dict) and {"failed", "not_attempted"} <= set(value):
            lines += [account_markdown(f"{title}: {key}", value).replace("# ", "## ", 1)]
    return "\n".join(lines).rstrip() + "\n"
