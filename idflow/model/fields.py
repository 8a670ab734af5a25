"""The TaskDef model: decorator keywords -> Conductor fields, defaults, ownership.

A task definition is handled as a plain dict in Conductor's camelCase wire form
(what the server stores and returns). This module knows which keywords map to
which fields, their types and defaults, and which fields idflow owns: the fields a
diff compares and an upload writes. Every other field belongs to the server or to
other people and is left alone.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TIMEOUT_POLICIES = ("RETRY", "TIME_OUT_WF", "ALERT_ONLY")
RETRY_LOGICS = ("FIXED", "EXPONENTIAL_BACKOFF", "LINEAR_BACKOFF")
DEFAULT_RESPONSE_TIMEOUT = 3600
# The server's Java types (checked on Conductor OSS 3.32): a larger value fails JSON
# parsing with a 500 for the whole batch, so validation must catch it first.
JAVA_INT_MAX = 2**31 - 1
JAVA_LONG_MAX = 2**63 - 1


@dataclass(frozen=True)
class FieldSpec:
    """One TaskDef field: its decorator keyword, its name on the wire, its type and the server's default."""

    keyword: str          # decorator keyword (snake_case)
    wire: str             # Conductor field (camelCase)
    kind: type            # int, str or list
    default: Any          # what the server assumes when the field is missing
    always_owned: bool = True  # False: owned only when the decorator sets it
    doc: str = ""


FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("retry_count", "retryCount", int, 3, doc="retries after a failure"),
    FieldSpec("timeout_seconds", "timeoutSeconds", int, 0, doc="overall time limit of one attempt, 0 = none"),
    FieldSpec("timeout_policy", "timeoutPolicy", str, "TIME_OUT_WF", doc="RETRY | TIME_OUT_WF | ALERT_ONLY"),
    FieldSpec("retry_logic", "retryLogic", str, "FIXED", doc="FIXED | EXPONENTIAL_BACKOFF | LINEAR_BACKOFF"),
    FieldSpec("retry_delay_seconds", "retryDelaySeconds", int, 60, doc="wait before a retry"),
    FieldSpec("response_timeout_seconds", "responseTimeoutSeconds", int, DEFAULT_RESPONSE_TIMEOUT,
              doc="time a worker may go without updating the task; default min(3600, timeout_seconds)"),
    FieldSpec("concurrent_exec_limit", "concurrentExecLimit", int, 0, doc="tasks in progress at once, 0 = no limit"),
    FieldSpec("rate_limit_frequency_in_seconds", "rateLimitFrequencyInSeconds", int, 1, doc="rate limit window"),
    FieldSpec("rate_limit_per_frequency", "rateLimitPerFrequency", int, 0, doc="tasks per window, 0 = no limit"),
    FieldSpec("backoff_scale_factor", "backoffScaleFactor", int, 1, doc="multiplier for backoff retries"),
    FieldSpec("total_timeout_seconds", "totalTimeoutSeconds", int, 0, doc="limit over all attempts, 0 = none"),
    FieldSpec("poll_timeout_seconds", "pollTimeoutSeconds", int, None, always_owned=False,
              doc="time a scheduled task may wait for a worker"),
    FieldSpec("owner_email", "ownerEmail", str, None, always_owned=False, doc="owner; mandatory on some servers"),
    FieldSpec("input_keys", "inputKeys", list, [], always_owned=False, doc="documented input keys"),
    FieldSpec("output_keys", "outputKeys", list, [], always_owned=False, doc="documented output keys"),
    FieldSpec("description", "description", str, "", doc="defaults to the docstring's first paragraph"),
)

FIELDS_BY_KEYWORD = {f.keyword: f for f in FIELDS}
LONG_FIELDS = ("timeoutSeconds", "responseTimeoutSeconds", "totalTimeoutSeconds")  # Java long on the server
INT_MAXIMUM = {f.wire: JAVA_LONG_MAX if f.wire in LONG_FIELDS else JAVA_INT_MAX for f in FIELDS if f.kind is int}
FIELDS_BY_WIRE = {f.wire: f for f in FIELDS}
TASKDEF_KEYWORDS = frozenset(FIELDS_BY_KEYWORD)
ALWAYS_OWNED = ("name",) + tuple(f.wire for f in FIELDS if f.always_owned)

# The marker idflow appends to `description`: the only TaskDef field that survives a
# round trip on every server and changes nothing about how a task runs (see
# provenance.py). A diff compares descriptions with the trailer removed.
PROVENANCE_MARKER = "\n\n[idflow] "


def owned_fields(wire: dict[str, Any]) -> tuple[str, ...]:
    """The fields idflow owns for this desired definition."""
    extra = tuple(f.wire for f in FIELDS if not f.always_owned and wire.get(f.wire) is not None)
    return ALWAYS_OWNED + extra


def build(name: str, keywords: dict[str, Any], docstring: str | None = None) -> dict[str, Any]:
    """Desired wire TaskDef from decorator keywords (already type-checked).

    Unset fields get their documented default so that the definition is complete
    and a diff against the server (which fills the same defaults) is exact.
    """
    wire: dict[str, Any] = {"name": name}
    for spec in FIELDS:
        if spec.keyword in keywords and keywords[spec.keyword] is not None:
            value = keywords[spec.keyword]
            wire[spec.wire] = list(value) if spec.kind is list else value
        elif spec.always_owned:
            wire[spec.wire] = spec.default
    if "description" not in keywords:
        wire["description"] = first_paragraph(docstring)
    if "response_timeout_seconds" not in keywords:
        timeout = wire["timeoutSeconds"]
        wire["responseTimeoutSeconds"] = min(DEFAULT_RESPONSE_TIMEOUT, timeout) if timeout > 0 else DEFAULT_RESPONSE_TIMEOUT
    return wire


def first_paragraph(docstring: str | None) -> str:
    if not docstring:
        return ""
    paragraph = docstring.strip().split("\n\n", 1)[0]
    return " ".join(line.strip() for line in paragraph.splitlines()).strip()


def strip_provenance(description: str | None) -> str:
    text = description or ""
    index = text.find(PROVENANCE_MARKER)
    return text if index < 0 else text[:index]


def normalise(field: str, value: Any) -> Any:
    """One field's value in the form a diff compares: defaults filled, 3.0 == 3."""
    spec = FIELDS_BY_WIRE.get(field)
    if field == "description":
        return strip_provenance(value)
    if value is None and spec is not None:
        value = spec.default
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if spec is not None and spec.kind is list and value is None:
        return []
    return value


def owned_view(wire: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    """The normalised values of `fields` in `wire`: what a diff compares."""
    view = {}
    for name in fields:
        value = wire.get(name)
        # `normalise` leaves any other value as it is: it is called only where it may change one.
        view[name] = normalise(name, value) if value is None or name == "description" or isinstance(value, float) \
            else value
    return view


def field_differences(desired: dict[str, Any], actual: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """{field: (server value, desired value)} for every owned field that differs."""
    fields = owned_fields(desired)
    want, have = owned_view(desired, fields), owned_view(actual, fields)
    return {f: (have[f], want[f]) for f in fields if have[f] != want[f]}


def merge(desired: dict[str, Any], server_copy: dict[str, Any] | None) -> dict[str, Any]:
    """What to write: idflow's owned fields over the server's copy.

    Fields other people set (schemas, inputKeys, ownerEmail, ...) survive because
    they are carried over from the server copy; server timestamps are dropped.
    """
    merged = {k: v for k, v in (server_copy or {}).items()
              if k not in ("createTime", "updateTime", "createdBy", "updatedBy")}
    for field in owned_fields(desired):
        if field in desired:
            merged[field] = desired[field]
    return merged
