"""Task forms: JSON Schemas in forms/, validated on the server with jsonschema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from stat import S_ISREG
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from engine import clock
from engine.calendar import LONDON
from engine.errors import FieldError, InvalidData
from engine.formcheck import Check, Unsure, compile_schema

FORMS_DIR = Path(__file__).resolve().parent.parent / "forms"


@lru_cache(maxsize=256)
def _load(path: str, mtime: float) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_form(name: str, forms_dir: Path = FORMS_DIR, council: str | None = None) -> dict[str, Any]:
    """A form as one council asks it (`for_council`); without a council, every question."""
    return _schema(*_file(name, forms_dir), council)


# A property with `"x-councils": [...]` is asked only in the cases of those councils.
COUNCILS = "x-councils"


def for_council(schema: Mapping[str, Any], council: str) -> dict[str, Any]:
    """The form a case of `council` sees: without the questions other councils ask alone.

    A shared form (one meeting record for every council) may carry a council's own question;
    for any other council's case it is absent everywhere at once: not drawn, not required,
    in no rule across fields (`allOf`), and an answer given for it is refused as unexpected
    (`additionalProperties: false`), never kept. The one place a council's view is made.
    """
    props = schema.get("properties") or {}
    gone = {n for n, node in props.items() if council not in node.get(COUNCILS, [council])}
    if not gone:
        return dict(schema)
    view = {**schema, "properties": {n: v for n, v in props.items() if n not in gone}}
    if "required" in schema:
        view["required"] = [n for n in schema["required"] if n not in gone]
    if "allOf" in schema:  # a rule about a question not asked does not apply
        view["allOf"] = [rule for rule in schema["allOf"] if not _mentions(rule, gone)]
    return view


def _mentions(node: Any, names: set[str]) -> bool:
    """Whether a rule across fields names any of these top-level fields."""
    if isinstance(node, list):
        return any(_mentions(v, names) for v in node)
    if not isinstance(node, Mapping):
        return False
    said = set(node.get("required") or []) | set(node.get("properties") or {})
    return bool(said & names) or any(
        _mentions(node[k], names)
        for k in ("if", "then", "else", "allOf", "anyOf", "not")
        if k in node
    )


@lru_cache(maxsize=256)
def _view(path: str, mtime: float, council: str) -> dict[str, Any]:
    return for_council(_load(path, mtime), council)


def _schema(path: str, mtime: float, council: str | None) -> dict[str, Any]:
    """The form file's schema, as `council` asks it when one is named (cached either way)."""
    return _load(path, mtime) if council is None else _view(path, mtime, council)


def _file(name: str, forms_dir: Path) -> tuple[str, float]:
    """A form's path and modification time (the caches' key), with one stat."""
    path = forms_dir / name
    try:
        found = path.stat() if "/" not in name else None
    except OSError:
        found = None
    if found is None or not S_ISREG(found.st_mode):
        raise FileNotFoundError(f'form "{name}" does not exist in forms/')
    return str(path), found.st_mtime


def form_key(name: str | None) -> str:
    """Where a form's answers live in case data: consent.json -> data["consent"]."""
    return (name or "answers").removesuffix(".json")


@lru_cache(maxsize=256)
def _validator(path: str, mtime: float, council: str | None = None) -> Draft202012Validator:
    return Draft202012Validator(_schema(path, mtime, council), format_checker=FormatChecker())


@lru_cache(maxsize=256)
def _quick(path: str, mtime: float, council: str | None = None) -> Check | None:
    """The form's compiled yes/no (`engine.formcheck`), made once like its validator."""
    format_checker = _validator(path, mtime, council).format_checker
    return compile_schema(_schema(path, mtime, council), format_checker)


def validate(
    name: str,
    data: Mapping[str, Any],
    forms_dir: Path = FORMS_DIR,
    council: str | None = None,
) -> None:
    """Raise InvalidData listing every problem, or return when the data fits the form.

    One rule for every caller (the task page, the CLI, scripts, journeys): the form's schema
    as the case's council asks it (`for_council`), and no date of something that has happened
    after the case's today (`in_future`).
    """
    found = _file(name, forms_dir)  # one stat for the schema and its validator
    schema = _schema(*found, council)
    check(
        schema, _validator(*found, council), data, in_future(schema, data), _quick(*found, council)
    )


def validate_schema(schema: Mapping[str, Any], data: Mapping[str, Any]) -> None:
    """`validate` for a schema made at run time (the front door's form for one route)."""
    check(schema, Draft202012Validator(schema, format_checker=FormatChecker()), data)


def check(
    schema: Mapping[str, Any],
    validator: Draft202012Validator,
    data: Mapping[str, Any],
    also: list[FieldError] | None = None,
    quick: Check | None = None,
) -> None:
    """Raise InvalidData with the schema's problems in plain words, and `also` (the checks a
    schema cannot say, such as `in_future`), field by field.

    `quick` (the form's compiled check) answers for valid answers, most of them, at a tenth of
    jsonschema's cost; when it says no, or cannot tell, jsonschema lists the problems.
    """
    instance = dict(data)
    try:
        fits = quick is not None and quick(instance)
    except (Unsure, RecursionError):
        fits = False
    if fits:
        if also:
            raise InvalidData(list(also))
        return
    errors = []
    try:
        found = sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.path)))
    except RecursionError:  # engine.payloads refuses deep answers first; never a traceback
        raise InvalidData([FieldError("", "The answers are nested too deeply", "depth")]) from None
    for error in found:
        path = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            path = ".".join(filter(None, [path, missing]))
            title = _title(schema, path) or missing
            message = f"Enter {title[:1].lower() + title[1:]}" if title else error.message
        else:
            message = _plain(error)
        errors.append(FieldError(path, message, str(error.validator)))
    said = {e.field for e in errors}  # a date the schema refuses is not also "in the future"
    errors += [e for e in also or [] if e.field not in said]
    if errors:
        raise InvalidData(errors)


# What a draft must respect although it may be half done: the form's size limits and names.
DRAFT_KEYWORDS = frozenset({"maxLength", "maxItems", "maxProperties", "additionalProperties"})


def validate_draft(
    name: str,
    data: Mapping[str, Any],
    forms_dir: Path = FORMS_DIR,
    council: str | None = None,
) -> None:
    """A draft may leave answers out or half typed, but not beyond the form's limits."""
    try:
        validate(name, data, forms_dir, council)
    except InvalidData as invalid:
        over = [e for e in invalid.errors if e.kind in DRAFT_KEYWORDS]
        if over:
            raise InvalidData(over) from None


def unbounded(schema: Mapping[str, Any], path: str = "") -> list[str]:
    """Fields of a form with no size limit: text without maxLength (or a fixed set of
    choices, a date format or a pattern), lists without maxItems. Every form has none."""
    found: list[str] = []
    kind = schema.get("type")
    if kind == "string" and not (
        "maxLength" in schema or {"enum", "const", "oneOf", "format"} & set(schema)
    ):
        found.append(path or "(form)")
    if kind == "array" and "maxItems" not in schema:
        found.append(path or "(form)")
    for name, sub in (schema.get("properties") or {}).items():
        found += unbounded(sub, f"{path}.{name}" if path else name)
    if isinstance(schema.get("items"), Mapping):
        found += unbounded(schema["items"], f"{path}[]")
    return found


def largest_answers(schema: Mapping[str, Any]) -> int:
    """An upper bound of the size (JSON characters, as `engine.payloads` counts) of answers
    that fit the form: every list full, every text at its longest."""
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return 2 + sum(
            len(name) + 4 + largest_answers(sub)
            for name, sub in (schema.get("properties") or {}).items()
        )
    if kind == "array":
        return 2 + int(schema.get("maxItems", 0)) * largest_answers(schema.get("items") or {})
    if kind == "string":
        options = [str(o.get("const", "")) for o in schema.get("oneOf", [])] + [
            str(v) for v in schema.get("enum", [])
        ]
        longest = max([len(o) for o in options] or [int(schema.get("maxLength", 10))])
        return longest + 2
    return 25


def in_future(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[FieldError]:
    """Dates of things that have happened (`"x-happened": true`) cannot be after today.

    Today is the London date of the engine clock (`clock.now()`): a training case's own clock
    when the engine works on one. Part of `validate`, so every way of completing a step
    refuses it alike.
    """
    today = clock.now().astimezone(LONDON).date()
    found = []

    def walk(props: Mapping[str, Any], values: Mapping[str, Any], prefix: str) -> None:
        for name, node in props.items():
            value = values.get(name)
            rows = node.get("items", {}) if node.get("type") == "array" else {}
            if isinstance(value, list) and rows.get("type") == "object":
                for i, row in enumerate(value):
                    if isinstance(row, Mapping):
                        walk(rows.get("properties", {}), row, f"{prefix}{name}.{i}.")
            elif node.get("x-happened") and isinstance(value, str):
                try:
                    day = date.fromisoformat(value)
                except ValueError:
                    continue  # the schema's format check names it
                if day > today:
                    title = node.get("title", name)
                    found.append(
                        FieldError(
                            f"{prefix}{name}", f"{title} must be today or in the past", "maximum"
                        )
                    )

    walk(schema.get("properties", {}), data, "")
    return found


def _title(schema: Mapping[str, Any], path: str) -> str | None:
    node: Any = schema
    for part in path.split("."):
        if part.isdigit():
            node = node.get("items", {})
            continue
        node = node.get("properties", {}).get(part)
        if node is None:
            return None
    return node.get("title") if isinstance(node, dict) else None


def _plain(error: Any) -> str:
    """jsonschema's messages are for programmers; say what to do instead."""
    value, schema = error.instance, error.schema
    if error.validator == "const" and isinstance(schema, dict) and schema.get("x-message"):
        return str(schema["x-message"])  # a rule across fields says it in the form's own words
    if error.validator in ("oneOf", "enum") and isinstance(schema, dict):
        options = [o.get("title", o.get("const")) for o in schema.get("oneOf", []) if "const" in o]
        options = options or list(schema.get("enum", []))
        if options:
            return f"Choose one of: {', '.join(map(str, options))} (got {value!r})"
    if error.validator == "format" and error.validator_value == "date":
        return f"Enter a real date, like 2026-11-23 (got {value!r})"
    if error.validator == "maxLength":
        return f"Must be {error.validator_value} characters or fewer"
    if error.validator == "minLength":
        return (
            "Enter an answer"
            if error.validator_value == 1
            else (f"Must be at least {error.validator_value} characters")
        )
    if error.validator == "type":
        kinds = {
            "string": "text",
            "integer": "a whole number",
            "number": "a number",
            "boolean": "yes or no",
            "array": "a list",
            "object": "a group of answers",
        }
        wanted = error.validator_value
        wanted = kinds.get(wanted, wanted) if isinstance(wanted, str) else wanted
        return f"Must be {wanted}"
    if error.validator == "additionalProperties":
        return f"Unexpected answer: {error.message.split('(')[-1].rstrip(')')}"
    if error.validator in ("minimum", "maximum", "minItems", "maxItems"):
        return {
            "minimum": f"Must be {error.validator_value} or more",
            "maximum": f"Must be {error.validator_value} or less",
            "minItems": f"Add at least {error.validator_value}",
            "maxItems": f"Add no more than {error.validator_value}",
        }[error.validator]
    return str(error.message)
