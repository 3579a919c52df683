"""A quick yes/no for "do these answers fit the form?", compiled once per form schema.

jsonschema's validator collects every problem with its path and message, which the task page
needs when answers are refused; but most completions are valid, and then that machinery (most
of it in `oneOf` of constant choices) costs more than the whole database transaction. A form is
compiled once (`compile_schema`) into nested closures that answer only valid or not, for the
JSON Schema 2020-12 keywords the forms use, with jsonschema's own semantics (its type checker,
its format checker, `bool` never equal to a number). `engine.forms` trusts a "valid" and asks
jsonschema for the problems otherwise, so every message stays jsonschema's.

A schema with a keyword this module does not know is not compiled (`None`: jsonschema alone),
and a value it cannot judge exactly (a list of non-text items under `uniqueItems`) raises
`Unsure`, which the caller treats like "not valid".
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

Check = Callable[[Any], bool]

# Keywords that say nothing about validity (annotations), besides any "x-..." of our own.
ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "title",
        "description",
        "default",
        "examples",
        "readOnly",
        "writeOnly",
        "deprecated",
    }
)
_TYPES = Draft202012Validator.TYPE_CHECKER


class Unsupported(Exception):
    """The schema uses a keyword (or a form of one) this module does not compile."""


class Unsure(Exception):
    """The value cannot be judged here exactly: ask jsonschema."""


def compile_schema(schema: Any, format_checker: FormatChecker) -> Check | None:
    """The form's quick check, or None when the form needs jsonschema every time."""
    try:
        return _compile(schema, format_checker)
    except Unsupported:
        return None


def _is_type(name: str) -> Check:
    simple: dict[str, Check] = {
        "string": lambda x: isinstance(x, str),
        "object": lambda x: isinstance(x, dict),
        "array": lambda x: isinstance(x, list),
        "boolean": lambda x: isinstance(x, bool),
        "null": lambda x: x is None,
    }
    if name in simple:
        return simple[name]
    if name in ("integer", "number"):  # jsonschema's own rule (1.0 is an integer, True is not)
        return lambda x: _TYPES.is_type(x, name)
    raise Unsupported(f"type {name!r}")


_IS_NUMBER = _is_type("number")


def _equals(constant: Any) -> Check:
    """jsonschema's `equal(instance, constant)` for a scalar constant."""
    if isinstance(constant, str):
        return lambda x: x == constant
    if constant is None or isinstance(constant, bool):
        return lambda x: x is constant
    if isinstance(constant, int | float):
        return lambda x: not isinstance(x, bool) and x == constant
    raise Unsupported(f"constant {constant!r}")


def _one_of(options: list[Any], fc: FormatChecker) -> Check:
    consts = [o.get("const") for o in options if isinstance(o, Mapping) and "const" in o]
    plain = all(isinstance(o, Mapping) and set(o) - {"const"} <= _ignored(o) for o in options)
    texts = plain and len(consts) == len(options) and all(isinstance(c, str) for c in consts)
    if texts and len(set(consts)) == len(consts):  # distinct texts: exactly one matches, or none
        choices = frozenset(consts)
        return lambda x: isinstance(x, str) and x in choices
    subs = [_compile(o, fc) for o in options]
    return lambda x: sum(1 for s in subs if s(x)) == 1


def _ignored(node: Mapping[str, Any]) -> set[str]:
    return {k for k in node if k in ANNOTATIONS or k.startswith("x-")}


def _unique_texts(x: Any) -> bool:
    if not isinstance(x, list):
        return True
    if not all(isinstance(v, str) for v in x):
        raise Unsure("uniqueItems over values other than text")
    return len(set(x)) == len(x)


def _compile(schema: Any, fc: FormatChecker) -> Check:
    if schema is True:
        return lambda x: True
    if schema is False:
        return lambda x: False
    if not isinstance(schema, Mapping):
        raise Unsupported(f"schema {schema!r}")
    checks: list[Check] = []
    for key, value in schema.items():
        if key in ANNOTATIONS or key.startswith("x-") or key in ("then", "else"):
            continue
        checks.append(_keyword(key, value, schema, fc))
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    every = tuple(checks)
    return lambda x: all(c(x) for c in every)


# Limits on a value's size: the kind of value they apply to, and how its length must compare.
_SIZES: dict[str, tuple[type, Callable[[int, int], bool]]] = {
    "maxLength": (str, operator.le),
    "minLength": (str, operator.ge),
    "maxItems": (list, operator.le),
    "minItems": (list, operator.ge),
}
# Bounds on a number: how a number beyond the bound compares with it.
_BOUNDS: dict[str, Callable[[Any, Any], bool]] = {"maximum": operator.gt, "minimum": operator.lt}


def _keyword(key: str, value: Any, schema: Mapping[str, Any], fc: FormatChecker) -> Check:
    if key == "type":
        names = [value] if isinstance(value, str) else list(value)
        kinds = [_is_type(n) for n in names]
        return kinds[0] if len(kinds) == 1 else (lambda x: any(k(x) for k in kinds))
    if key == "const":
        return _equals(value)
    if key == "enum":
        options = [_equals(v) for v in value]
        return lambda x: any(o(x) for o in options)
    if key == "oneOf":
        return _one_of(list(value), fc)
    if key == "anyOf":
        subs = [_compile(s, fc) for s in value]
        return lambda x: any(s(x) for s in subs)
    if key == "allOf":
        subs = [_compile(s, fc) for s in value]
        return lambda x: all(s(x) for s in subs)
    if key == "not":
        sub = _compile(value, fc)
        return lambda x: not sub(x)
    if key == "if":
        test = _compile(value, fc)
        then = _compile(schema.get("then", True), fc)
        other = _compile(schema.get("else", True), fc)
        return lambda x: then(x) if test(x) else other(x)
    if key == "required":
        names = tuple(value)
        return lambda x: not isinstance(x, dict) or all(n in x for n in names)
    if key == "properties":
        props = {n: _compile(s, fc) for n, s in value.items()}
        return lambda x: not isinstance(x, dict) or all(p(x[n]) for n, p in props.items() if n in x)
    if key == "additionalProperties":
        if "patternProperties" in schema:
            raise Unsupported("patternProperties")
        known = frozenset(schema.get("properties") or {})
        if value is False:
            return lambda x: not isinstance(x, dict) or all(k in known for k in x)
        extra = _compile(value, fc)
        return lambda x: (
            not isinstance(x, dict) or all(extra(v) for k, v in x.items() if k not in known)
        )
    if key in _SIZES:
        kind, within, limit = *_SIZES[key], int(value)
        return lambda x: not isinstance(x, kind) or within(len(x), limit)
    if key == "pattern":
        found = re.compile(value).search
        return lambda x: not isinstance(x, str) or found(x) is not None
    if key == "format":
        return lambda x: fc.conforms(x, value)
    if key in _BOUNDS:
        beyond, bound = _BOUNDS[key], value
        return lambda x: not _IS_NUMBER(x) or not beyond(x, bound)
    if key == "items":
        if "prefixItems" in schema:
            raise Unsupported("prefixItems")
        each = _compile(value, fc)
        return lambda x: not isinstance(x, list) or all(each(v) for v in x)
    if key == "contains":
        if "minContains" in schema or "maxContains" in schema:
            raise Unsupported("minContains/maxContains")
        some = _compile(value, fc)
        return lambda x: not isinstance(x, list) or any(some(v) for v in x)
    if key == "uniqueItems":
        return _unique_texts if value else (lambda x: True)
    raise Unsupported(key)
