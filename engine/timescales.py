"""Council timescales: each timed rule's duration, read from processes/<council>/timescales.yaml.

Durations live in one file per council and nowhere else, so a diagram names the rule
(`deadline("plan_distribution")`) and never types the number. Beside it, guidance.yaml holds
the council's own words for the shared blocks' steps, so each council sees its procedure only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from engine import yaml_files
from engine.calendar import NON_WORKING_DAY_RULES, Duration
from engine.functions import COUNCIL_SETTINGS, Timescale
from engine.lanes import default_lanes, parse_lanes

PROCESSES_DIR = Path(__file__).resolve().parent.parent / "processes"


@dataclass(frozen=True)
class CouncilProfile:
    key: str
    name: str
    timescales: dict[str, Timescale]
    guidance: Mapping[str, str] = field(default_factory=dict)
    # lane -> the roles that may act in it (processes/lanes.yaml, then the council's `lanes:`)
    lanes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # An escalation step's own deadline, counted from the deadline that was missed
    # (`escalation_deadline:` in timescales.yaml).
    escalation_deadline: str = "1 working day"
    # A calendar-day deadline (days, weeks, months) on a weekend, bank holiday or closure day:
    # "keep" it (the wording says so) or "roll_back" to the working day before
    # (`calendar_deadlines_on_non_working_days:` in timescales.yaml).
    calendar_deadlines: str = "keep"

    @property
    def rolls_back(self) -> bool:
        return self.calendar_deadlines == "roll_back"
    # Yes/no choices of the council's own procedure that shared blocks ask through
    # council_setting(...) (`settings:` in timescales.yaml), so no shared diagram names a council.
    settings: Mapping[str, bool] = field(default_factory=dict)

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

    def own_guidance(self, process_id: str, element_id: str, text: str) -> str:
        """What the council's worker reads on a step: its guidance.yaml words for a shared
        block's step, else the diagram's text with other councils' rule citations removed."""
        own = self.guidance.get(f"{process_id}:{element_id}")
        if own is not None:
            return own
        prefixes = {scale.rule[:1] for scale in self.timescales.values() if scale.rule}
        match = _CITATIONS.search(text)
        if not prefixes or match is None:
            return text
        kept = [c for c in match.group(0).split("; ") if c[:1] in prefixes]
        return (text[: match.start()] + "; ".join(kept)).rstrip()


# The rule citations a step's guidance ends with: "P2 · Portsmouth 1.2; D5 · Dudley Timescales".
_CITE = r"[A-Z]\d+(?:(?:, |/|-)[A-Z]?\d+)* · [^;]+"
_CITATIONS = re.compile(rf"(?<![^ ]){_CITE}(?:; {_CITE})*$")


def load_profile(path: Path, processes_dir: Path | None = None) -> CouncilProfile:
    raw = yaml_files.read(path) or {}
    lanes = {
        **default_lanes(processes_dir or path.parent.parent),
        **parse_lanes(raw.get("lanes"), str(path)),
    }
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
            at_deadline=str(item.get("at_deadline", "")),
            **_told(key, item, path),
            **_longest(key, item, path),
        )
    guidance_file = path.parent / "guidance.yaml"
    guidance: dict[str, str] = {}
    if guidance_file.is_file():
        for key, item in (yaml_files.read(guidance_file) or {}).items():
            guidance[str(key)] = str(item).strip()
    escalation = str(raw.get("escalation_deadline", "1 working day"))
    Duration.parse(escalation)  # a typo is refused when the pack is read, not at the deadline
    on_non_working = str(raw.get("calendar_deadlines_on_non_working_days", "keep"))
    if on_non_working not in NON_WORKING_DAY_RULES:
        raise ValueError(
            f"{path}: calendar_deadlines_on_non_working_days is {on_non_working!r}; "
            f"use one of {', '.join(NON_WORKING_DAY_RULES)}"
        )
    settings = _settings(raw.get("settings"), path)
    return CouncilProfile(
        str(raw.get("council", path.parent.name)),
        str(raw.get("name", "")),
        scales,
        guidance=guidance,
        lanes=lanes,
        escalation_deadline=escalation,
        calendar_deadlines=on_non_working,
        settings=settings,
    )


def _told(key: str, item: dict[str, object], path: Path) -> dict[str, str]:
    """A date handed on at closure (`tell`, `tell_from`): both or neither, the words with
    {date} in them and the answer a form's field name, so a typo is refused when read."""
    tell, told_from = str(item.get("tell") or ""), str(item.get("tell_from") or "")
    if not tell and not told_from:
        return {}
    if "{date}" not in tell or not re.fullmatch(r"[a-z_]+\.[a-z_]+", told_from):
        raise ValueError(
            f"{path}: timescale {key}: `tell` needs words with {{date}} and `tell_from` a "
            "form's answer such as step_down.last_assessment_date"
        )
    return {"tell": tell, "tell_from": told_from}


def _longest(key: str, item: dict[str, object], path: Path) -> dict[str, object]:
    """A timescale's `longest:` (a manager's longer limit, R9) with its `longer_when:`, read and
    checked here: same unit as the duration and longer than it, so a typo is refused on reading."""
    if item.get("longest") is None:
        return {}
    duration = Duration.parse(str(item["duration"]))
    longest = Duration.parse(str(item["longest"]))
    when = str(item.get("longer_when", "")).strip()
    if longest.unit != duration.unit or longest.amount <= duration.amount or not when:
        raise ValueError(
            f"{path}: timescale {key}: longest ({longest}) must be longer than its duration "
            f"({duration}), in the same unit, with longer_when saying when it applies"
        )
    return {"longest": longest, "longer_when": when}


def _settings(raw: object, path: Path) -> dict[str, bool]:
    """A council's `settings:`: known names only, each yes or no (a typo is refused on reading)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: settings must be a list of name: true/false")
    unknown = sorted(set(map(str, raw)) - set(COUNCIL_SETTINGS))
    if unknown:
        known = ", ".join(sorted(COUNCIL_SETTINGS))
        raise ValueError(f"{path}: unknown setting {', '.join(unknown)} (known: {known})")
    for name, value in raw.items():
        if not isinstance(value, bool):
            raise ValueError(f"{path}: setting {name} must be true or false, not {value!r}")
    return {str(k): v for k, v in raw.items()}


@lru_cache(maxsize=32)
def profile_for(council: str, processes_dir: Path = PROCESSES_DIR) -> CouncilProfile:
    """A council's profile; councils without a timescales file get an empty one."""
    path = processes_dir / council / "timescales.yaml"
    if path.is_file():
        return load_profile(path, processes_dir)
    name = council.replace("_", " ").title()
    return CouncilProfile(council, name, {}, lanes=dict(default_lanes(processes_dir)))
