"""What a BPMN timer may hold, checked the same way at deploy and when a case reaches it.

Standard BPMN timers are written as ISO 8601 literals and mean exact calendar time: `PT1H`,
`P10D`, `P1M` in a timeDuration; a date or date and time in a timeDate (London time when no
offset is given); `R3/PT1H` in a timeCycle. Working days need the functions of
`engine.functions` (`due_in("10 working days")`, `deadline("key")`), which give a date and time,
so they go in a timeDate. Each kind must get the right kind of value: a date in a duration timer
would crash every case that reaches it, so it is refused with a message that says what to write.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)

from engine.calendar import LONDON

KINDS = ("timeDate", "timeDuration", "timeCycle")

_DURATION = re.compile(
    r"^P(?:\d+W|(?=\d|T\d)(\d+Y)?(\d+M)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?)$"
)
_CYCLE = re.compile(r"^R(\d*)/(.+)$")
_DATE_START = re.compile(r"^\d{4}-\d{2}-\d{2}")


def kind_of(definition: Any) -> str | None:
    """The BPMN element a spiff timer definition was parsed from (subclasses included)."""
    if isinstance(definition, TimeDateEventDefinition):
        return "timeDate"
    if isinstance(definition, DurationTimerEventDefinition):
        return "timeDuration"
    if isinstance(definition, CycleTimerEventDefinition):
        return "timeCycle"
    return None


def _instant(text: str) -> str | None:
    """An ISO date or date and time as an offset-aware instant; naive means London time."""
    if not _DATE_START.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LONDON)
    return parsed.isoformat()


def _is_duration(text: str) -> bool:
    return bool(_DURATION.match(text.upper()))


def _cycle(text: str) -> str | None:
    match = _CYCLE.match(text.upper())
    if not match:
        return None
    parts = match.group(2).split("/")
    if len(parts) == 1 and _is_duration(parts[0]):
        return text.upper()
    if len(parts) == 2 and _instant(parts[0]) and _is_duration(parts[1]):
        return f"R{match.group(1)}/{_instant(parts[0])}/{parts[1].upper()}"
    return None


def literal(kind: str, text: str) -> str | None:
    """The value of a timer written as a standard ISO 8601 literal, or None if it is not one."""
    text = (text or "").strip()
    if kind == "timeDate":
        return _instant(text)
    if kind == "timeDuration":
        return text.upper() if _is_duration(text) else None
    if kind == "timeCycle":
        return _cycle(text)
    return None


_WHAT = {
    "timeDate": 'a date and time (e.g. 2027-01-07T09:00, or due_in("10 working days"))',
    "timeDuration": "a duration such as PT1H, P10D or P1M (exact calendar time)",
    "timeCycle": "a repetition such as R3/PT1H",
}


def checked(kind: str, value: Any) -> str:
    """The value a timer of `kind` gave, normalised; ValueError says what to write instead."""
    text = value.isoformat() if isinstance(value, (date, datetime)) else value
    if not isinstance(text, str):
        raise ValueError(
            f"a {kind} timer needs {_WHAT[kind]}, but this gives {type(value).__name__}"
        )
    result = literal(kind, text)
    if result is not None:
        return result
    if kind == "timeDuration" and _instant(text.strip()):
        raise ValueError(
            f'this duration timer gives the date "{text}": draw it as a date timer (timeDate), '
            "or write a duration such as P10D"
        )
    if kind == "timeDate" and _is_duration(text.strip().upper()):
        raise ValueError(
            f'this date timer gives the duration "{text}": draw it as a duration timer '
            '(timeDuration), or write due_in("10 days")'
        )
    raise ValueError(f'the timer gives "{text}", but a {kind} timer needs {_WHAT[kind]}')
