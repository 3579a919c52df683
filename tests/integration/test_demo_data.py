"""The demo as a practitioner meets it: each case its own child's record, real-looking people
and teams, and messages that reach the team holding the case."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from engine.demo import seed
from engine.demodata import family_of, personalise
from engine.services import Engine


@pytest.fixture
def demo(tmp_path, fixed_clock) -> Engine:  # noqa: ANN001
    engine = Engine(f"sqlite:///{tmp_path / 'demo.db'}")
    engine.init_db()
    report = seed(engine)
    assert not report.refused, report.refused
    yield engine
    engine.dispose()


def test_no_case_names_another_case_s_child(demo: Engine) -> None:
    cases = demo.list_cases(open_only=False)
    assert len(cases) >= 10
    children = {c.id: c.child.name for c in cases}
    assert len(set(children.values())) == len(children), "two demo cases share a child"
    for case in cases:
        record = json.dumps(demo.get_case(case.id, with_data=True).data)
        trail = json.dumps([e.detail for e in demo.audit_trail(case.id)])
        for other_id, other in children.items():
            if other_id == case.id:
                continue
            for name in (other, other.split()[0]):
                assert not re.search(rf"\b{re.escape(name)}\b", record + trail), (
                    f"case {case.id} ({case.child.name}) names {other}'s child: {name}"
                )
        # The forms' example family and its 2025 dates never reach a demo record.
        assert not re.search(r"\b(Leo|Whitlow)\b", record), case.child.name
        assert not re.search(r'"2025-\d\d-\d\d"', record), case.child.name


def test_people_and_teams_have_names_and_cases_start_in_their_team(demo: Engine) -> None:
    sw = demo.people.get("sw.portsmouth")
    assert sw.display_name == "Priya Shah"
    assert sw.council_name == "Portsmouth City Council"
    assert [t.name for t in demo.worklist_teams(["portsmouth-cin"])] == ["Portsmouth CIN team"]
    assert not any("(" in u.display_name for u in demo.people.users())
    for case in demo.list_cases(open_only=False):
        started = demo.audit_trail(case.id, action="case_started")[0]
        assert started.actor == f"sw.{case.council}", case.child.name
        assert case.team == f"{case.council}-cin"
    actors = {e.actor for e in demo.audit_trail() if e.case_id is not None}
    assert "scenario" not in actors


def test_every_demo_message_is_addressed_to_the_case_s_team(demo: Engine) -> None:
    inbox = demo.notifications("tm.portsmouth", ("portsmouth-cin",), "team_manager")
    assert inbox, "the Portsmouth manager's inbox is empty"
    # Steps by the names people know them by, never an element id like “hold_meeting”.
    for council in ("portsmouth", "rochdale", "dudley", "teeswide", "walthamforest"):
        for role, prefix in (("team_manager", "tm"), ("social_worker", "sw")):
            for note in demo.notifications(f"{prefix}.{council}", (f"{council}-cin",), role):
                assert not re.search(r"“[a-z0-9]+(_[a-z0-9]+)+”", note.message), note.message


def test_personalise_renames_the_family_and_moves_dates() -> None:
    example = {
        "who": "Karen Whitlow (mother) and Leo's nan, Pat Whitlow",
        "visit_date": "2025-06-10",
        "items": [{"by_when": "2025-07-18"}],
        "next_review_date": "2025-07-24",
    }
    family = family_of("Freddie Lowe")
    out = personalise(example, "Freddie Lowe", date(2027, 2, 8))
    assert out["who"] == (
        f"{family.mother} Lowe (mother) and Freddie's nan, {family.grandmother} Lowe"
    )
    assert out["visit_date"] == "2027-02-08"
    assert out["items"][0]["by_when"] == "2027-03-18"
    assert out["next_review_date"] == "2027-03-24"
