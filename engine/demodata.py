"""Synthetic people for the demo: staff names per council, and each demo child's own family.

The forms' filled examples (forms/examples/*.valid.json) are written about one made-up family
(Leo, his mother Karen Whitlow, grandmother Pat Whitlow) in 2025. Tests use them as they are;
a demo case must not: a practitioner seeing another child's name or last year's dates in a
child's record would rightly treat it as a wrong-child record. `personalise` rewrites an
example for the case's own child and shifts its dates to the day the step is done.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

# The examples' family, as written in forms/examples.
EXAMPLE_CHILD = "Leo"
EXAMPLE_SURNAME = "Whitlow"
EXAMPLE_MOTHER = "Karen"
EXAMPLE_GRANDMOTHER = "Pat"

MOTHERS = ("Donna", "Kerry", "Leanne", "Michelle", "Natalie", "Sarah", "Stacey", "Zoe")
GRANDMOTHERS = ("Brenda", "Carol", "Jean", "Linda", "Maureen", "Sandra")

# Staff: (social worker, team manager, practice manager, trainer) per council, all made up.
# Made-up staff, in the order of engine.demo.DEMO_ROLES: social worker, senior practitioner,
# conference chair / IRO, business support, team manager, practice manager, trainer.
STAFF = {
    "portsmouth": ("Priya Shah", "Ruth Green", "Colin Hart", "Nadia Khan", "Mark Ellis",
                   "Hannah Boyd", "Owen Price"),
    "rochdale": ("Aisha Rahman", "Paul Ashworth", "Mary Holt", "Lee Ogden", "Gareth Lloyd",
                 "Fiona Walsh", "Simon Tate"),
    "dudley": ("Chloe Bennett", "Sunita Patel", "Roger Hill", "Emma Price", "Imran Qureshi",
               "Lorna Kerr", "Neil Foster"),
    "teeswide": ("Jade Robson", "Mark Dunn", "Helen Carr", "Liam Swift", "Paul Hodgson",
                 "Karen Liddle", "Tariq Aziz"),
    "walthamforest": ("Grace Adeyemi", "Tom Okafor", "Lucy Baker", "Femi Ade", "Daniel Moss",
                      "Rosa Mendes", "Kofi Mensah"),
}  # fmt: skip
GENERIC_STAFF = ("Sam Turner", "Nina Shaw", "Ray Dale", "Kim Lowe", "Alex Morgan",
                 "Jo Patterson", "Chris Wade")  # fmt: skip

# Answers that name a day still to come (a plan's target, the next review); every other date
# in an example is of something that has happened.
FUTURE_KEYS = re.compile(r"^(next_|by_when$|new_date$|follow_up_)")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def staff_name(council: str, index: int) -> str:
    """The made-up name of a council's demo person in the `index`th of engine.demo.DEMO_ROLES."""
    return STAFF.get(council, GENERIC_STAFF)[index]


@dataclass(frozen=True)
class Family:
    first_name: str
    surname: str
    mother: str
    grandmother: str


def family_of(child_name: str) -> Family:
    """A stable made-up family for a child: the same child always gets the same relatives."""
    parts = child_name.split()
    first, surname = (parts[0], parts[-1]) if len(parts) > 1 else (child_name, child_name)
    seed = int(hashlib.sha256(child_name.encode()).hexdigest(), 16)
    return Family(
        first, surname, MOTHERS[seed % len(MOTHERS)], GRANDMOTHERS[seed // 7 % len(GRANDMOTHERS)]
    )


def personalise(example: Mapping[str, Any], child_name: str, today: date) -> dict[str, Any]:
    """`example` rewritten for this child's family, its dates moved so the latest past event
    is `today` (future dates keep their distance after it)."""
    family = family_of(child_name)
    past = [date.fromisoformat(v) for k, v in _dated(example) if not FUTURE_KEYS.match(k)]
    shift = today - max(past) if past else timedelta(0)

    def walk(key: str, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: walk(k, v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(key, v) for v in value]
        if isinstance(value, str) and ISO_DATE.match(value):
            moved = date.fromisoformat(value) + shift
            if FUTURE_KEYS.match(key) and moved <= today:
                moved = today + timedelta(days=28)
            return moved.isoformat()
        if isinstance(value, str):
            return _rename(value, family)
        return value

    return {k: walk(k, v) for k, v in example.items()}


def _dated(value: Any, key: str = "") -> list[tuple[str, str]]:
    if isinstance(value, Mapping):
        return [pair for k, v in value.items() for pair in _dated(v, k)]
    if isinstance(value, list):
        return [pair for v in value for pair in _dated(v, key)]
    if isinstance(value, str) and ISO_DATE.match(value):
        return [(key, value)]
    return []


def _rename(text: str, family: Family) -> str:
    for old, new in (
        (EXAMPLE_SURNAME, family.surname),
        (EXAMPLE_MOTHER, family.mother),
        (EXAMPLE_GRANDMOTHER, family.grandmother),
        (EXAMPLE_CHILD, family.first_name),
    ):
        text = re.sub(rf"\b{old}\b", new, text)
    return text
