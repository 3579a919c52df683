"""Bounds on one evaluation of a diagram expression: time, size of every value, total work.

A diagram condition runs inside a completion while the process holds the GIL, so one slow
operation stalls every request. A thread cannot interrupt a C-level operation, so the bounds are
checked *before* each operation that can grow (numbers, strings, lists, formatting, the string
methods that build text), and the evaluator's node walk checks a wall-clock budget and a total
of everything built. Each single operation is then small, and the walk stops soon after the
budget is spent.
"""

from __future__ import annotations

import ast
import math
import operator as op
import re
from collections.abc import Callable, Mapping, Sized
from datetime import date, datetime
from time import monotonic
from typing import Any

#: The largest string, list, dict... any operation may build (items or characters, counted
#: through nested containers, so `[[0] * 9999] * 9999` counts as 10**8).
MAX_SIZE = 100_000
#: The most all the values built in one evaluation may add up to.
MAX_TOTAL = 500_000
#: Integers beyond this many bits are not case data; refuse before computing them.
MAX_INT_BITS = 4096
#: Widths and precisions in format specifications, and round()'s digits.
MAX_WIDTH = 1000
#: Wall-clock budget of one evaluation (garbage collection paused), checked at every node.
TIME_BUDGET_S = 0.5


class LimitExceeded(Exception):
    """An evaluation went over a bound; the message says which, in plain words."""


def deep_size(value: Any, limit: int = MAX_SIZE) -> int:
    """Characters and items of `value`, nested containers included; stops counting past limit."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple, set, frozenset, Mapping)):
            parts = [*item.keys(), *item.values()] if isinstance(item, Mapping) else item
            total += 0 if parts else 1
            for part in parts:
                kind = type(part)
                if kind is str:
                    total += len(part) or 1
                elif kind is int:
                    total += 1 + part.bit_length() // 64
                elif kind in _SCALARS:
                    total += 1
                else:
                    stack.append(part)
        elif isinstance(item, (str, bytes, bytearray)):
            total += len(item) or 1
        elif isinstance(item, int) and not isinstance(item, bool):
            total += 1 + item.bit_length() // 64
        else:
            total += 1
        if total > limit:
            return total
    return total


_SCALARS = (bool, float, type(None))


def _too_long() -> LimitExceeded:
    return LimitExceeded(
        f"the result would be too long (more than {MAX_SIZE:,} characters or items)"
    )


def _too_large() -> LimitExceeded:
    return LimitExceeded("a number in the expression is too large to calculate")


def _bits(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return value.bit_length()


def _check_int(bits: int) -> None:
    if bits > MAX_INT_BITS:
        raise _too_large()


def _sized(value: Any) -> bool:
    return isinstance(value, Sized) and not isinstance(value, (int, float))


def _repeat(a: Any, b: Any) -> None:
    """Check `a * b` before it runs: repetition of text or lists, or a product of integers."""
    for seq, times in ((a, b), (b, a)):
        if _sized(seq) and isinstance(times, int):
            if times > 0 and deep_size(seq) * times > MAX_SIZE:
                raise _too_long()
            return
    _check_int(_bits(a) + _bits(b))


def _power(a: Any, b: Any) -> None:
    """Refuse before computing: the result's size is about b * log2(|a|) bits."""
    if not isinstance(a, (int, float)) or not isinstance(b, (int, float)) or abs(a) in (0, 1):
        return
    if abs(b) > MAX_INT_BITS * 64 or (b > 0 and b * math.log2(abs(a)) > MAX_INT_BITS):
        raise _too_large()


def _shift(a: Any, b: Any) -> None:
    if isinstance(b, int) and b > MAX_INT_BITS:
        raise _too_large()
    _check_int(_bits(a) + (max(b, 0) if isinstance(b, int) else 0))


def _join(a: Any, b: Any) -> None:
    if _sized(a) and _sized(b) and deep_size(a) + deep_size(b) > MAX_SIZE:
        raise _too_long()
    _check_int(max(_bits(a), _bits(b)) + 1)


def _modulo(a: Any, b: Any) -> None:
    if isinstance(a, (str, bytes)):
        raise LimitExceeded('"%" formatting of text is not allowed: write an f-string instead')


#: Operators with a check run before them.
GUARDED_OPERATORS: dict[type, tuple[Callable[[Any, Any], Any], Callable[[Any, Any], None]]] = {
    ast.Mult: (op.mul, _repeat),
    ast.Pow: (op.pow, _power),
    ast.LShift: (op.lshift, _shift),
    ast.Add: (op.add, _join),
    ast.Sub: (op.sub, _join),
    ast.Mod: (op.mod, _modulo),
}

_SPEC_NUMBER = re.compile(r"\d+")


def check_format_spec(spec: str) -> None:
    """Refuse format widths and precisions that would build huge text (f'{x:>99999999}')."""
    if len(spec) > 50 or any(int(n) > MAX_WIDTH for n in _SPEC_NUMBER.findall(spec)):
        raise LimitExceeded(f"format widths and precisions above {MAX_WIDTH} are not allowed")


def _str_size_after(method: str, obj: str, args: tuple[Any, ...]) -> int | None:
    """Size of the result of a growing string method, worked out before calling it."""
    if method == "zfill" and args and isinstance(args[0], int):
        return max(len(obj), args[0])
    if method == "replace" and len(args) >= 2 and all(isinstance(a, str) for a in args[:2]):
        old, new = args[0], args[1]
        count = (len(obj) + 1) if old == "" else obj.count(old)
        if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
            count = min(count, args[2])
        return len(obj) + count * (len(new) - len(old))
    if method == "join" and args:
        parts = args[0]
        if not _sized(parts):
            raise LimitExceeded('"join" needs a list or tuple of text')
        return deep_size(parts) + len(obj) * max(len(parts) - 1, 0)
    return None


def check_method_call(obj: Any, method: str, args: tuple[Any, ...]) -> None:
    """Refuse a method call whose result would be too big, before it runs."""
    if isinstance(obj, str):
        size = _str_size_after(method, obj, args)
        if size is not None and size > MAX_SIZE:
            raise _too_long()


def _round(number: Any, ndigits: Any = None) -> Any:
    if ndigits is not None and (not isinstance(ndigits, int) or abs(ndigits) > MAX_WIDTH):
        raise LimitExceeded(f"round() takes at most {MAX_WIDTH} digits")
    return round(number) if ndigits is None else round(number, ndigits)


def _sum(values: Any, start: Any = 0) -> Any:
    if not isinstance(start, (int, float)) or isinstance(start, bool):
        raise LimitExceeded("sum() adds numbers only")
    total = start
    for value in values:
        if not isinstance(value, (int, float)):
            raise LimitExceeded("sum() adds numbers only")
        total += value
    return total


#: Builtins offered with their own limits.
BOUNDED_BUILTINS: Mapping[str, Callable[..., Any]] = {"round": _round, "sum": _sum}

# Read-only methods per container type.  Mutating methods (append, update, pop, ...) are left
# out so an expression can never change task data, even through a shallow copy.
SAFE_METHODS: dict[type, frozenset[str]] = {
    dict: frozenset({"get", "keys", "values", "items"}),
    list: frozenset({"index", "count", "copy"}),
    tuple: frozenset({"index", "count"}),
    set: frozenset(
        {
            "union",
            "intersection",
            "difference",
            "symmetric_difference",
            "issubset",
            "issuperset",
            "isdisjoint",
            "copy",
        }
    ),
    frozenset: frozenset(
        {
            "union",
            "intersection",
            "difference",
            "symmetric_difference",
            "issubset",
            "issuperset",
            "isdisjoint",
            "copy",
        }
    ),
    str: frozenset(
        {
            "capitalize",
            "casefold",
            "count",
            "endswith",
            "find",
            "index",
            "isalnum",
            "isalpha",
            "isdecimal",
            "isdigit",
            "islower",
            "isnumeric",
            "isspace",
            "istitle",
            "isupper",
            "join",
            "lower",
            "lstrip",
            "partition",
            "removeprefix",
            "removesuffix",
            "replace",
            "rfind",
            "rindex",
            "rpartition",
            "rsplit",
            "rstrip",
            "split",
            "splitlines",
            "startswith",
            "strip",
            "title",
            "upper",
            "zfill",
        }
    ),
}

#: Methods of values that are neither containers nor text (dates from deserialised data).
SCALAR_METHODS: dict[type, frozenset[str]] = {
    datetime: frozenset({"isoformat", "weekday", "isoweekday", "date"}),
    date: frozenset({"isoformat", "weekday", "isoweekday"}),
}


class Budget:
    """One evaluation's running totals: wall clock, nodes and everything built.

    The clock is wall time: `engine.expressions.evaluate` pauses the garbage collector for the
    evaluation (engine.collector), so a full collection's pause is never counted against it.
    """

    __slots__ = ("deadline", "built")

    def __init__(self) -> None:
        self.deadline = monotonic() + TIME_BUDGET_S
        self.built = 0

    def tick(self) -> None:
        if monotonic() > self.deadline:
            raise LimitExceeded(
                f"the expression took longer than {TIME_BUDGET_S:g} seconds to work out"
            )

    def charge(self, value: Any) -> Any:
        """Count a value just built against the size and total limits; return it."""
        if isinstance(value, (bool, float)) or value is None:
            return value
        if isinstance(value, int):
            _check_int(value.bit_length())
            return value
        size = deep_size(value)
        if size > MAX_SIZE:
            raise _too_long()
        self.built += size
        if self.built > MAX_TOTAL:
            raise LimitExceeded(
                f"the expression builds too much (more than {MAX_TOTAL:,} characters or items)"
            )
        return value
