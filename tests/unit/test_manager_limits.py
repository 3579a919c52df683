"""A manager's own limit on a timed rule (R3, R9, R10): shorter always, longer only where the
council's timescale allows it (`longest:`, `longer_when:`) and the diagram's `longer_if=` holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.calendar import Duration, WorkingCalendar
from engine.functions import Timescale, diagram_functions
from engine.timescales import load_profile

REVIEW = Timescale(
    key="review_interval",
    rule="R9",
    duration=Duration(4, "weeks"),
    start="the previous Child in Need meeting",
    section="5, 9",
    remind_before=Duration(1, "weeks"),
    longest=Duration(12, "weeks"),
    longer_when="the child is disabled and receives services from the Children with Disability "
    "Team",
)
VISITS = Timescale("visit_interval", "R10", Duration(20, "working_days"), "the last visit", "6")
FNS = diagram_functions(WorkingCalendar([]), {"review_interval": REVIEW, "visit_interval": VISITS})
MEETING = "2027-04-30"  # a Friday


def test_without_a_limit_the_council_timescale_counts() -> None:
    assert FNS["deadline"]("review_interval", from_=MEETING).startswith("2027-05-28")


def test_a_shorter_limit_counts_for_any_child() -> None:
    assert FNS["deadline"]("review_interval", from_=MEETING, within=2).startswith("2027-05-14")
    assert FNS["reminder"]("review_interval", from_=MEETING, within=2).startswith("2027-05-07")


def test_a_longer_limit_counts_only_where_the_diagram_says_it_may() -> None:
    due = FNS["deadline"]("review_interval", from_=MEETING, within=8, longer_if=True)
    assert due.startswith("2027-06-25")
    with pytest.raises(ValueError, match="allowed only when the child is disabled"):
        FNS["deadline"]("review_interval", from_=MEETING, within=8)
    with pytest.raises(ValueError, match="allowed only when"):
        FNS["reminder"]("review_interval", from_=MEETING, within=8, longer_if=None)


def test_a_longer_limit_stops_at_the_council_longest() -> None:
    assert FNS["deadline"]("review_interval", MEETING, 12, True).startswith("2027-07-23")
    with pytest.raises(ValueError, match="at most 12 weeks, not 13 weeks"):
        FNS["deadline"]("review_interval", MEETING, 13, True)


def test_a_rule_without_a_longest_takes_only_shorter_limits() -> None:
    with pytest.raises(ValueError, match="can only be shorter than the council's 20 working days"):
        FNS["deadline"]("visit_interval", MEETING, 25, True)


@pytest.mark.parametrize("bad", ["six", 0, -2, 2.5j])
def test_a_limit_that_is_not_a_whole_number_of_at_least_one_is_refused(bad: object) -> None:
    with pytest.raises(ValueError, match='the limit for "review_interval"'):
        FNS["deadline"]("review_interval", MEETING, bad, True)


@pytest.mark.parametrize(
    "extra",
    [
        "    longest: 3 weeks\n    longer_when: disabled\n",  # not longer
        "    longest: 60 days\n    longer_when: disabled\n",  # another unit
        "    longest: 12 weeks\n",  # no reason given
    ],
)
def test_a_pack_with_a_bad_longest_is_refused_on_reading(tmp_path: Path, extra: str) -> None:
    pack = tmp_path / "processes" / "x"
    pack.mkdir(parents=True)
    (pack / "timescales.yaml").write_text(
        "council: x\nname: X\ntimescales:\n  review_interval:\n    rule: R9\n"
        "    duration: 4 weeks\n    from: the last meeting\n    section: '9'\n" + extra,
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="longest"):
        load_profile(pack / "timescales.yaml", tmp_path / "processes")


def test_rochdale_allows_reviews_up_to_12_weeks_for_the_disability_team_only() -> None:
    root = Path(__file__).resolve().parents[2] / "processes"
    profile = load_profile(root / "rochdale" / "timescales.yaml", root)
    for key in ("first_review", "review_interval"):
        scale = profile.timescales[key]
        assert scale.longest == Duration(12, "weeks")
        assert "Children with Disability Team" in scale.longer_when
