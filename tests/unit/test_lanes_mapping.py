"""Lanes are roles: the mapping is written once (processes/lanes.yaml), councils may differ."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.lanes import (
    LanesError,
    inbox_lanes,
    lanes_for_role,
    parse_inbox_lanes,
    parse_lanes,
    roles_for,
    unmapped,
)
from engine.people import ROLES
from engine.timescales import CouncilProfile, profile_for

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
COUNCILS = sorted(p.parent.name for p in PROCESSES.glob("*/timescales.yaml"))


def used_lanes(folder: Path) -> set[str]:
    import re

    return {
        name
        for path in folder.glob("*.bpmn")
        for name in re.findall(r'<bpmn:lane [^>]*name="([^"]+)"', path.read_text("utf-8"))
    }


@pytest.mark.parametrize("council", [*COUNCILS, "sample"])
def test_every_lane_a_pack_uses_has_roles(council):
    lanes = profile_for(council).lanes
    used = used_lanes(PROCESSES / council) | used_lanes(PROCESSES / "common")
    assert unmapped(lanes, used) == []


def test_the_default_mapping_follows_the_seeds():
    lanes = profile_for("portsmouth").lanes
    assert roles_for(lanes, "Chair") == {"senior_practitioner", "team_manager"}
    assert roles_for(lanes, "Team manager") == {"team_manager", "practice_manager"}
    assert roles_for(lanes, "Conference chair / IRO") == {"iro"}
    assert "social_worker" not in roles_for(lanes, "Team manager")
    assert roles_for(lanes, "No such lane") == frozenset()


def test_a_council_replaces_a_lane_from_its_own_seed():
    # Teeswide's seed 002 (6.2): the social worker chairs the Child in Need meeting.
    assert "social_worker" in roles_for(profile_for("teeswide").lanes, "Chair")
    assert "social_worker" not in roles_for(profile_for("dudley").lanes, "Chair")
    assert roles_for(profile_for("teeswide").lanes, "Team manager") == {
        "team_manager",
        "practice_manager",
    }


def test_every_role_in_the_files_exists():
    for path in [PROCESSES / "lanes.yaml", *PROCESSES.glob("*/timescales.yaml")]:
        raw = yaml.safe_load(path.read_text("utf-8")).get("lanes") or {}
        for roles in raw.values():
            assert set(roles) <= set(ROLES), path


def test_an_unknown_role_is_refused():
    with pytest.raises(LanesError, match="unknown role"):
        parse_lanes({"Chair": ["chairperson"]}, "x.yaml")
    with pytest.raises(LanesError, match="list of roles"):
        parse_lanes({"Chair": "team_manager"}, "x.yaml")


def test_lanes_for_a_role():
    profile = profile_for("portsmouth")
    assert isinstance(profile, CouncilProfile)
    assert lanes_for_role(profile.lanes, "iro") == ["Conference chair / IRO"]
    assert "Team manager" not in lanes_for_role(profile.lanes, "social_worker")


def test_each_role_has_its_own_inbox_lane_in_lanes_yaml():
    """The inbox's role -> own lane comes from processes/lanes.yaml (`inbox:`), nowhere else."""
    own = inbox_lanes(PROCESSES)
    assert own == {
        "team_manager": "Team manager",
        "social_worker": "Social worker",
        "senior_practitioner": "Chair",
        "iro": "Conference chair / IRO",
        "business_support": "Business support",
    }
    lanes = profile_for("portsmouth").lanes
    assert all(role in roles_for(lanes, lane) for role, lane in own.items())


@pytest.mark.parametrize(
    ("inbox", "says"),
    [
        ({"wizard": "Chair"}, "unknown role 'wizard'"),
        ({"iro": "Nowhere"}, "not in lanes"),
        (["iro"], "must be a mapping"),
    ],
)
def test_a_bad_inbox_mapping_is_refused_by_name(inbox, says):
    lanes = parse_lanes({"Chair": ["senior_practitioner"]}, "x")
    with pytest.raises(LanesError, match=says):
        parse_inbox_lanes(inbox, lanes, "lanes.yaml")
