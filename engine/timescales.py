"""Council timescales: each timed rule's duration, read from processes/<council>/timescales.yaml.

Durations live in one file per council and nowhere else, so a diagram names the rule
(`deadline("plan_distribution")`) and never types the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from engine.calendar import Duration
from engine.functions import Timescale

PROCESSES_DIR = Path(__file__).resolve().parent.parent / "processes"


@dataclass(frozen=True)
class CouncilProfile:
    key: str
    name: str
    timescales: dict[str, Timescale]
    # An escalation step's own deadline, counted from the deadline that was missed
    # (`escalation_deadline:` in timescales.yaml).
    escalation_deadline: str = "1 working day"

    def rule_for_key(self, key: str) -> str | None:
        scale = self.timescales.get(key)
        return scale.rule if scale else None

    def own_rules(self, text: str | None) -> str | None:
        """The council's own ids from a shared block's list ("P2/D5/T4" -> "D5" for Dudley).

        A council without a rule in the list sees none rather than another council's id.
        """
        if not text:
            return None
        prefixes = {scale.rule[:1] for scale in self.timescales.values() if scale.rule}
        if not prefixes:
            return text
        ids = [part.strip() for part in text.replace(",", "/").split("/") if part.strip()]
        own = [i for i in ids if i[:1] in prefixes]
        return "/".join(own) or None


def load_profile(path: Path) -> CouncilProfile:
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    scales: dict[str, Timescale] = {}
    for key, item in (raw.get("timescales") or {}).items():
        scales[key] = Timescale(
            key=key,
            rule=str(item["rule"]),
            duration=Duration.parse(str(item["duration"])),
            start=str(item.get("from", "")),
            section=str(item.get("section", "")),
            remind_before=Duration.parse(str(item.get("remind_before", "2 working days"))),
            note=str(item.get("note", "")),
        )
    escalation = str(raw.get("escalation_deadline", "1 working day"))
    Duration.parse(escalation)  # a typo is refused when the pack is read, not at the deadline
    return CouncilProfile(
        str(raw.get("council", path.parent.name)), str(raw.get("name", "")), scales, escalation
    )


@lru_cache(maxsize=32)
def profile_for(council: str, processes_dir: Path = PROCESSES_DIR) -> CouncilProfile:
    """A council's profile; councils without a timescales file get an empty one."""
    path = processes_dir / council / "timescales.yaml"
    if path.is_file():
        return load_profile(path)
    return CouncilProfile(council, council.replace("_", " ").title(), {})
