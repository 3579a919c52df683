"""What the modeler's properties panel and palette may offer for a council: the forms in forms/
with their fields (for gateway conditions, by name), the council's rule ids, its timescales
(a timer names one of them), the duration units the engine counts and the lanes (roles) a
diagram may use. Read-only and plain data: the web app hands it to the browser as JSON, and
the server checks whatever comes back at save time with the deploy rules, not with this list.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.calendar import UNITS
from engine.timescales import CouncilProfile

#: How the panel words each unit ("15 working days"); engine/calendar.py reads the same words.
UNIT_WORDS = {
    "working_days": "working days",
    "days": "days",
    "weeks": "weeks",
    "months": "months",
    "hours": "hours",
}


def form_fields(path: Path) -> list[str]:
    """A form's top-level answers, as a condition names them (`consent.consent_given`)."""
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    stem = path.stem
    return [f"{stem}.{name}" for name in sorted(schema.get("properties") or {})]


def choices(profile: CouncilProfile, forms_dir: Path, rule_ids: list[str] | None) -> dict[str, Any]:
    forms = sorted(forms_dir.glob("*.json")) if forms_dir.is_dir() else []
    return {
        "council": profile.key,
        "forms": [{"file": p.name, "title": _title(p), "fields": form_fields(p)} for p in forms],
        "ruleIds": sorted(rule_ids or []),
        "timescales": [
            {
                "key": key,
                "rule": scale.rule,
                "duration": str(scale.duration),
                "from": scale.start,
            }
            for key, scale in sorted(profile.timescales.items())
        ],
        "units": [UNIT_WORDS[u] for u in UNITS],
        "lanes": sorted(profile.lanes),
    }


def _title(path: Path) -> str:
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("title") or path.stem)
    except (OSError, ValueError):
        return path.stem
