"""processes/<council>/timescales.yaml: one entry per timed rule of shared/spec/procedures.md.

The engine turns each entry into a timer, so the files are checked for shape here, and against
the spec (rule ids, sections, seed files, and that no timed rule is left out) when the spec is
checked out beside the repository as ../shared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine.calendar import Duration

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
SPEC = Path(__file__).resolve().parents[3] / "shared/spec/procedures.md"

COUNCILS = {
    "portsmouth": "P",
    "dudley": "D",
    "teeswide": "T",
    "rochdale": "R",
    "walthamforest": "W",
}

DURATION = re.compile(r"^-?\d+ (working days?|days?|weeks?|months?|hours?)$")
KEY = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")
FIELDS = {"rule", "duration", "from", "section", "remind_before", "note", "longest", "longer_when"}
FIELDS |= {"tell", "tell_from"}  # P12: a date handed on at closure (engine.wording.handed_on)
REQUIRED = {"rule", "duration", "from", "section"}
DEFAULT_REMINDER = "2 working days"  # what the engine uses when remind_before is left out

# Rough length of each unit in days, only to compare a reminder with its deadline.
APPROX_DAYS = {"working day": 7 / 5, "day": 1, "week": 7, "month": 30, "hour": 1 / 24}

# How the spec words a time limit: "15 working days", "every 6 weeks", "Day 30", "six-weekly".
TIMED = re.compile(
    r"\d+\s*(working days?|days?|weeks?|months?|hours?)\b|\bday \d+|weekly|monthly|annually",
    re.IGNORECASE,
)
# Timed-looking rules that set no time limit: R1 is day 0 itself, the allocation.
NOT_TIMED = {"R1"}


def load(council: str) -> dict[str, Any]:
    with (PROCESSES / council / "timescales.yaml").open(encoding="utf-8") as f:
        return yaml.safe_load(f)


def approx_days(duration: str) -> float:
    amount, unit = duration.split(" ", 1)
    return int(amount) * APPROX_DAYS[unit.rstrip("s")]


def spec_text() -> str:
    if not SPEC.exists():
        pytest.skip(f"spec not checked out at {SPEC}")
    return SPEC.read_text(encoding="utf-8")


def spec_rules() -> dict[str, tuple[str, str]]:
    """rule id -> (rule text, section), from the spec's tables."""
    rows = re.findall(r"^\| ([PDTRW]\d+) \| (.+?) \| (.+?) \|$", spec_text(), re.MULTILINE)
    return {rule: (text, section) for rule, text, section in rows}


def spec_seeds() -> dict[str, str]:
    rows = re.findall(r"^\| ([a-z]+) \| (\d{3}_[0-9a-f]+\.txt) \|", spec_text(), re.MULTILINE)
    return dict(rows)


# -- shape -----------------------------------------------------------------------------------


def test_one_file_per_council():
    found = {p.parent.name for p in PROCESSES.glob("*/timescales.yaml")}
    assert set(COUNCILS) <= found


@pytest.mark.parametrize("council", COUNCILS)
def test_file_shape(council):
    data = load(council)
    # lanes: who may act in which lane, where the council differs (engine/lanes.py)
    allowed = {"council", "name", "seed", "timescales", "lanes", "escalation_deadline"}
    allowed |= {"calendar_deadlines_on_non_working_days", "settings"}
    assert {"council", "name", "seed", "timescales"} <= set(data) <= allowed
    Duration.parse(str(data.get("escalation_deadline", "1 working day")))
    assert data["council"] == council
    assert isinstance(data["name"], str) and data["name"].strip()
    assert re.fullmatch(r"\d{3}_[0-9a-f]+\.txt", data["seed"])
    assert isinstance(data["timescales"], dict) and data["timescales"]
    for key, entry in data["timescales"].items():
        assert KEY.match(key), key
        assert REQUIRED <= set(entry) <= FIELDS, key
        for field in ("rule", "from", "section", "note", "longer_when", "tell", "tell_from"):
            if field in entry:
                assert isinstance(entry[field], str) and entry[field].strip(), (key, field)


@pytest.mark.parametrize("council", COUNCILS)
def test_durations_are_literal(council):
    for key, entry in load(council)["timescales"].items():
        assert DURATION.match(entry["duration"]), (key, entry["duration"])
        assert approx_days(entry["duration"]) > 0, key
        remind = entry.get("remind_before", DEFAULT_REMINDER)
        assert DURATION.match(remind), (key, remind)
        assert 0 < approx_days(remind) < approx_days(entry["duration"]), (key, remind)


@pytest.mark.parametrize("council", COUNCILS)
def test_rules_belong_to_the_council(council):
    for key, entry in load(council)["timescales"].items():
        assert re.fullmatch(rf"{COUNCILS[council]}\d+", entry["rule"]), (key, entry["rule"])


def test_shared_ideas_share_a_key():
    """The engine looks timers up by key, so the same idea must not go by two names."""
    keys = {council: set(load(council)["timescales"]) for council in COUNCILS}
    for council in ("portsmouth", "dudley", "rochdale", "walthamforest"):
        assert {"first_review", "review_interval"} <= keys[council], council
    planning = {"first_planning_meeting", "plan_distribution", "visit_interval"}
    for council in ("portsmouth", "dudley", "rochdale"):
        assert planning <= keys[council], council
    for council in ("dudley", "teeswide", "rochdale"):
        assert "review_record" in keys[council], council
    assert "assessment_update" in keys["dudley"] & keys["rochdale"]
    assert "assessment_completion" in keys["teeswide"] & keys["rochdale"]


# -- against the spec ------------------------------------------------------------------------


@pytest.mark.parametrize("council", COUNCILS)
def test_rule_ids_and_sections_exist_in_the_spec(council):
    rules = spec_rules()
    for key, entry in load(council)["timescales"].items():
        assert entry["rule"] in rules, (key, entry["rule"])
        assert entry["section"] == rules[entry["rule"]][1], (key, entry["section"])


@pytest.mark.parametrize("council", COUNCILS)
def test_seed_is_the_councils_seed(council):
    assert load(council)["seed"] == spec_seeds()[council]


@pytest.mark.parametrize("council", COUNCILS)
def test_every_timed_rule_has_a_timescale(council):
    timed = {
        rule
        for rule, (text, _) in spec_rules().items()
        if rule.startswith(COUNCILS[council]) and TIMED.search(text) and rule not in NOT_TIMED
    }
    covered = {entry["rule"] for entry in load(council)["timescales"].values()}
    assert timed, "the spec lists timed rules for every council"
    assert timed <= covered, f"timed rules without a timescale: {sorted(timed - covered)}"


def test_a_shared_blocks_rule_list_shows_each_council_its_own() -> None:
    from engine.timescales import profile_for

    assert profile_for("dudley").own_rules("P2/D5/T4/R12/W5") == "D5"
    assert profile_for("rochdale").own_rules("D1") is None
    assert profile_for("portsmouth").own_rules("P11/T9") == "P11"
    assert profile_for("no_such_council").own_rules("P2/D5") == "P2/D5"
