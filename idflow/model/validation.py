"""Client-side validation of TaskDefs: every problem at once, before any request.

Conductor's own rules (checked in its source) plus type checks on decorator
keywords, so an invalid definition never reaches the server.
"""
from __future__ import annotations

import re
from typing import Any
import reprlib

from idflow.model.fields import (FIELDS_BY_KEYWORD, FIELDS_BY_WIRE, INT_MAXIMUM, PROVENANCE_MARKER, RETRY_LOGICS,
                            TIMEOUT_POLICIES)

NAME_PATTERN = re.compile(r"^[A-Za-z0-9_\-.:]+$")
MAX_NAME_LENGTH = 255


def name_problem(name: object) -> str | None:
    """Why `name` cannot be a task definition name (None: it can). Discovery, plans and `tasks new` share it."""
    if not isinstance(name, str) or not name:
        return "name must be a non-empty string"
    if not NAME_PATTERN.match(name) or len(name) > MAX_NAME_LENGTH:
        return (f"name {_cut(name)!r} may only use letters, digits, '_', '-', '.', ':' "
                f"(ASCII, at most {MAX_NAME_LENGTH})")
    return None


def _cut(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _repr(value: Any) -> str:
    short = reprlib.Repr()
    short.maxstring, short.maxother, short.maxlong = 80, 80, 40
    try:
        return short.repr(value)
    except ValueError:  # an int too long to convert
        return f"<{type(value).__name__}>"


def _number(value: int) -> str:
    # str() of an int over 4300 digits raises, and a long one is useless in a message anyway.
    return f"{value:,}" if abs(value) < 10**30 else f"a {value.bit_length()}-bit number"


def wire_type_errors(wire: dict[str, Any]) -> list[str]:
    """Type problems of a wire TaskDef read from a file (a plan), and keys no TaskDef field has."""
    unknown = [k for k in wire if k != "name" and k not in FIELDS_BY_WIRE]
    problems = [f"unknown field {_cut(str(k))!r}" for k in unknown]
    keywords = {FIELDS_BY_WIRE[k].keyword: v for k, v in wire.items() if k in FIELDS_BY_WIRE}
    return problems + keyword_type_errors(keywords)


def backup_entry_problems(wire: dict[str, Any]) -> list[str]:
    """Why a backed-up server copy cannot be written back: a field of the wrong type or over the
    server's range. Fields idflow does not know are the server's own and pass unchecked."""
    keywords = {FIELDS_BY_WIRE[k].keyword: v for k, v in wire.items() if k in FIELDS_BY_WIRE}
    problems = keyword_type_errors(keywords)
    for field, maximum in INT_MAXIMUM.items():
        value = wire.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and not -maximum - 1 <= value <= maximum:
            problems.append(f"{field} must be within the server's {'long' if maximum > 2**31 else 'int'} range, "
                            f"got {_number(value)}")
    return problems


def keyword_type_errors(keywords: dict[str, Any]) -> list[str]:
    """Type problems of decorator keywords, one message each."""
    problems = []
    for keyword, value in keywords.items():
        spec = FIELDS_BY_KEYWORD.get(keyword)
        if spec is None or value is None:
            continue
        if spec.kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(f"{keyword} must be a whole number, got {type(value).__name__} {_cut(_repr(value))}")
        elif spec.kind is str and not isinstance(value, str):
            problems.append(f"{keyword} must be a string, got {type(value).__name__} {_cut(_repr(value))}")
        elif spec.kind is list and (not isinstance(value, (list, tuple))
                                    or not all(isinstance(v, str) for v in value)):
            problems.append(f"{keyword} must be a list of strings, got {_cut(_repr(value))}")
    return problems


def validate(wire: dict[str, Any]) -> list[str]:
    """All of Conductor's rules this definition breaks (empty list: valid)."""
    problems: list[str] = []
    name = name_problem(wire.get("name"))
    if name:
        problems.append(name)
    for field, maximum in INT_MAXIMUM.items():
        value = wire.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value > maximum:
            java = "long" if maximum > 2**31 else "int"
            problems.append(f"{field} must be <= {maximum:,} (the server's largest {java}), got {_number(value)}")
    for field in ("retryCount", "timeoutSeconds", "retryDelaySeconds", "concurrentExecLimit",
                  "rateLimitPerFrequency", "rateLimitFrequencyInSeconds", "totalTimeoutSeconds",
                  "pollTimeoutSeconds", "backoffScaleFactor"):
        value = wire.get(field)
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            problems.append(f"{field} must be >= 0, got {_number(value)}")
    timeout = wire.get("timeoutSeconds") or 0
    response = wire.get("responseTimeoutSeconds")
    if isinstance(response, int):
        if response < 1:
            problems.append(f"responseTimeoutSeconds must be >= 1, got {response}")
        elif isinstance(timeout, int) and timeout > 0 and response > timeout:
            problems.append(f"responseTimeoutSeconds ({response}) must be <= timeoutSeconds ({timeout}); "
                            "raise timeout_seconds or lower response_timeout_seconds")
    total = wire.get("totalTimeoutSeconds") or 0
    if isinstance(total, int) and isinstance(timeout, int) and total > 0 and timeout > total:
        problems.append(f"totalTimeoutSeconds ({total}) must be >= timeoutSeconds ({timeout}) when set")
    policy = wire.get("timeoutPolicy")
    if policy is not None and policy not in TIMEOUT_POLICIES:
        problems.append(f"timeoutPolicy {policy!r} is not one of {', '.join(TIMEOUT_POLICIES)}")
    logic = wire.get("retryLogic")
    if logic is not None and logic not in RETRY_LOGICS:
        problems.append(f"retryLogic {logic!r} is not one of {', '.join(RETRY_LOGICS)}")
    per = wire.get("rateLimitPerFrequency") or 0
    window = wire.get("rateLimitFrequencyInSeconds")
    if isinstance(per, int) and per > 0 and isinstance(window, int) and window < 1:
        problems.append("rateLimitFrequencyInSeconds must be >= 1 when rateLimitPerFrequency is set")
    backoff = wire.get("backoffScaleFactor")
    if isinstance(backoff, int) and not isinstance(backoff, bool) and backoff < 1:
        problems.append(f"backoffScaleFactor must be >= 1, got {backoff}")
    description = wire.get("description")
    if isinstance(description, str) and PROVENANCE_MARKER in description:
        problems.append("description must not contain a blank line followed by '[idflow] ': that starts "
                        "idflow's provenance trailer, and the text after it would be lost on upload")
    email = wire.get("ownerEmail")
    if email is not None and (not isinstance(email, str) or "@" not in email):
        problems.append(f"ownerEmail {email!r} is not an email address")
    return problems
