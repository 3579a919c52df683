"""What the engine takes from outside, checked before anything is read or written.

Ids, user names, form answers and message payloads arrive from the web app, the CLI and
scripts. Each is checked here for type, characters (no NUL, no lone surrogates: neither can be
stored or encoded), nesting depth and size, without recursion (so a 1,000-deep list is a refusal,
not a RecursionError), and refused with its own error type and a message that says what to do.
Form rules (required fields, choices) are `engine.forms`'; this is the shape underneath them.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from typing import Any

from engine.errors import (
    BadCaseId,
    BadTaskId,
    FieldError,
    InvalidData,
    InvalidInput,
    TooLarge,
)

MAX_NAME_CHARS = 200  # user names and message names: the audit `actor` column holds 200
MAX_CASE_ID = 2**63 - 1  # PostgreSQL bigint; beyond it a driver raises OverflowError
MAX_INT = 2**53  # whole numbers in answers and payloads (exact in JSON everywhere)
# Answers: every form's largest valid answers fit (tests/unit/test_forms.py checks); the depth
# is that of a table of rows (object > list > object > text) with room to spare.
ANSWERS_MAX_BYTES = 256 * 1024
ANSWERS_MAX_DEPTH = 6
# Messages say what happened outside the diagram ("family moved", a date): small and flat.
MESSAGE_MAX_BYTES = 16 * 1024
MESSAGE_MAX_DEPTH = 4
# A case's data as a whole (every form's answers and payload it keeps): a clear refusal
# rather than a state that grows without bound (the case is rewritten on every save).
CASE_DATA_MAX_BYTES = 2 * 1024 * 1024


def _bad_characters(text: str) -> str | None:
    """Why `text` cannot be stored, or None: NUL, or a lone surrogate (not encodable)."""
    if "\x00" in text:
        return "contains a NUL character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a character that is not valid Unicode (a lone surrogate)"
    return None


def user_name(value: Any, what: str = "user") -> str:
    """Who is acting: a non-empty name of at most 200 printable characters."""
    if not isinstance(value, str):
        raise InvalidInput(f"the {what} must be a user name, not {_kind(value)}")
    if not value.strip():
        raise InvalidInput(f"the {what} must be a user name, not blank")
    if len(value) > MAX_NAME_CHARS:
        raise InvalidInput(f"the {what} name is {len(value)} characters; at most 200 are allowed")
    bad = _bad_characters(value)
    if bad is None and not value.isprintable():
        bad = "contains a control character"
    if bad:
        raise InvalidInput(f"the {what} name {bad}")
    return value


def task_id(value: Any) -> str:
    """A task id: a UUID, as the engine gives them out (lower case, with hyphens)."""
    if not isinstance(value, str):
        raise BadTaskId(f"a task id is text like 0b7c6e1a-..., not {_kind(value)}")
    shown = value[:40].encode("unicode_escape").decode("ascii")
    try:
        parsed = uuid.UUID(value) if len(value) == 36 else None
    except ValueError:
        parsed = None
    if parsed is None or str(parsed) != value.lower():
        raise BadTaskId(f'"{shown}" is not a task id (task ids look like 0b7c6e1a-3f0d-...)')
    return value.lower()


def case_id(value: Any) -> int:
    """A case id: a positive whole number (digits in text are accepted)."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        shown = str(value)[:40].encode("unicode_escape").decode("ascii")
        raise BadCaseId(f'"{shown}" is not a case id (case ids are whole numbers like 42)')
    if not 1 <= value <= MAX_CASE_ID:
        raise BadCaseId(f"there is no case {value}: case ids are whole numbers from 1")
    return value


def text(value: Any, what: str, max_chars: int = MAX_NAME_CHARS) -> str:
    """Short text such as a message name: a string of at most `max_chars`, storable."""
    if not isinstance(value, str):
        raise InvalidInput(f"the {what} must be text, not {_kind(value)}")
    if len(value) > max_chars:
        raise InvalidInput(f"the {what} is {len(value)} characters; at most {max_chars}")
    bad = _bad_characters(value)
    if bad:
        raise InvalidInput(f"the {what} {bad}")
    return value


def problems(value: Any, max_depth: int, max_bytes: int) -> list[tuple[str, str, str]]:
    """Why `value` is not plain, storable JSON within the limits: (path, message, kind).

    Walked with a stack, never recursion; stops at the first problem of each kind that makes
    going on pointless (too deep, too big).
    """
    found: list[tuple[str, str, str]] = []
    size = 0
    stack: list[tuple[Any, tuple[str, ...], int]] = [(value, (), 1)]
    while stack:
        node, path, depth = stack.pop()
        where = ".".join(path)
        if depth > max_depth:
            return [(where, f"nested more than {max_depth} levels deep", "depth")]
        if isinstance(node, Mapping):
            size += 2
            for key, child in node.items():
                if not isinstance(key, str):
                    found.append((where, f"has a name that is not text ({_kind(key)})", "type"))
                    continue
                bad = _bad_characters(key)
                if bad or len(key) > MAX_NAME_CHARS:
                    found.append((where, f"has a name that {bad or 'is too long'}", "characters"))
                    continue
                size += len(key) + 4
                stack.append((child, (*path, key), depth + 1))
        elif isinstance(node, list | tuple):
            size += 2
            for n, child in enumerate(node):
                stack.append((child, (*path, str(n)), depth + 1))
        elif isinstance(node, str):
            size += len(node) + 2
            bad = _bad_characters(node) if size <= max_bytes else None
            if bad:
                found.append((where, bad, "characters"))
        elif isinstance(node, bool) or node is None:
            size += 5
        elif isinstance(node, int):
            if abs(node) > MAX_INT:
                found.append((where, "is too large a number", "maximum"))
            size += 20
        elif isinstance(node, float):
            if not math.isfinite(node):
                found.append((where, "is not a number (NaN or infinity)", "type"))
            size += 25
        else:
            found.append((where, f"is {_kind(node)}, which cannot be stored", "type"))
        if size > max_bytes:
            return [("", f"is more than {max_bytes // 1024} KiB", "size")]
    return found


def answers(value: Any) -> Mapping[str, Any]:
    """Form answers: an object of plain JSON within the answers budget, else InvalidData."""
    if not isinstance(value, Mapping):
        raise InvalidData(
            [
                FieldError(
                    "", f"The answers must be a set of named answers, not {_kind(value)}", "type"
                )
            ]
        )
    found = problems(value, ANSWERS_MAX_DEPTH, ANSWERS_MAX_BYTES)
    if found:
        raise InvalidData(
            [FieldError(path, _sentence(path, message), kind) for path, message, kind in found]
        )
    return value


def message_payload(value: Any) -> Mapping[str, Any]:
    """What a message carries: a small object of plain JSON, else InvalidInput / TooLarge."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(
            f'a message payload must be an object of named values ({{"what": "..."}}), '
            f"not {_kind(value)}"
        )
    found = problems(value, MESSAGE_MAX_DEPTH, MESSAGE_MAX_BYTES)
    if found:
        path, message, kind = found[0]
        error = TooLarge if kind in ("size", "depth") else InvalidInput
        where = f" at {path}" if path else ""
        raise error(f"the message payload{where} {message}; nothing was saved")
    return value


def start_data(value: Any) -> Mapping[str, Any]:
    """What a case starts with: an object of plain JSON within the answers' limits."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput(f"a case's starting data must be an object, not {_kind(value)}")
    found = problems(value, ANSWERS_MAX_DEPTH, ANSWERS_MAX_BYTES)
    if found:
        path, message, kind = found[0]
        error = TooLarge if kind in ("size", "depth") else InvalidInput
        where = f" at {path}" if path else ""
        raise error(f"the case's starting data{where} {message}; nothing was saved")
    return value


def json_size(value: Any, limit: int = CASE_DATA_MAX_BYTES) -> int:
    """About how many characters `value` takes as JSON, counted up to just over `limit`
    (walked with a stack: a deep value costs no recursion)."""
    size = 0
    stack = [value]
    while stack and size <= limit:
        node = stack.pop()
        if isinstance(node, Mapping):
            size += 2 + sum(len(str(k)) + 4 for k in node)
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            size += 2 + len(node)
            stack.extend(node)
        elif isinstance(node, str):
            size += len(node) + 2
        else:
            size += len(str(node))
    return size


def check_case_data_size(size: int, case: int) -> None:
    """Refuse a change that would take a case's data over its budget."""
    if size > CASE_DATA_MAX_BYTES:
        raise TooLarge(
            f"case {case} would hold {size // 1024} KiB of data, over the limit of "
            f"{CASE_DATA_MAX_BYTES // 1024} KiB; shorten the answers (or attach long documents "
            "in the case record system). Nothing was saved."
        )


def _sentence(path: str, message: str) -> str:
    """ "This answer is ..." for a field; "The answers are ..." for the whole form."""
    if path:
        return f"This answer {message}"
    return "The answers " + (f"are {message[3:]}" if message.startswith("is ") else message)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (None)"
    names = {
        str: "text",
        bool: "yes/no",
        int: "a number",
        float: "a number",
        list: "a list",
        tuple: "a list",
        dict: "an object",
        bytes: "bytes",
    }
    return names.get(type(value), f"a {type(value).__name__}")
