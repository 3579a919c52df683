"""Allocation, finding a child and "My cases", on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from factories import add_team_people, start_sample

from engine.errors import NotAllowed, UnknownCase
from engine.services import Engine, NewChild
from engine.services.casework import Casework, parse_query

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "long enough password"
CONSENT = json.loads((ROOT / "forms" / "examples" / "consent.valid.json").read_text())


@pytest.fixture
def world(engine: Engine) -> Casework:
    engine.deploy([ROOT / "processes" / "sample"], "pm", "sample", council="portsmouth")
    add_team_people(engine, "north", "portsmouth", [("sw.a", "social_worker"),
                    ("sw.b", "social_worker"), ("tm.n", "team_manager")], PASSWORD)  # fmt: skip
    add_team_people(engine, "south", "portsmouth", [("sw.s", "social_worker")], PASSWORD)
    return Casework(engine.sessions)


def start(engine: Engine, name: str, team: str = "north", dob: date | None = None) -> int:
    return start_sample(engine, name, team=team, by="tm.n", date_of_birth=dob).id


def test_allocation_moves_steps_and_the_next_steps_follow(engine: Engine, world: Casework):
    case_id = start(engine, "Freddie Lowe")
    (consent,) = engine.tasks(case_id=case_id)
    assert consent.claimed_by is None  # unallocated: the team's pool

    done = world.allocate(case_id, "sw.a", "tm.n", teams=["north"])
    assert done.moved_steps == ["Record consent"]
    assert engine.task(consent.id).claimed_by == "sw.a"
    inbox = engine.notifications("sw.a", ["north"], "social_worker")
    assert [n.kind for n in inbox] == ["assigned", "allocated"]
    assert "Freddie Lowe's case is now allocated to you by TM.N" in inbox[1].message

    # The next social worker step goes straight to the allocated worker, who is told.
    (nxt,) = engine.complete_task(consent.id, CONSENT, "sw.a").next_tasks
    assert nxt.claimed_by == "sw.a"
    assert any("Complete the assessment" in n.message for n in engine.notifications(
        "sw.a", ["north"], "social_worker"))  # fmt: skip

    # Reallocation moves the open step and is audited.
    world.allocate(case_id, "sw.b", "tm.n", teams=["north"])
    assert engine.task(nxt.id).claimed_by == "sw.b"
    (event,) = engine.audit_trail(case_id, action="case_allocated")[1:]
    assert event.actor == "tm.n" and event.detail["from"] == "sw.a"
    assert event.detail["to"] == "sw.b"
    assert [c.child_name for c in world.my_cases("sw.b", ["north"])] == ["Freddie Lowe"]
    assert world.my_cases("sw.b", ["south"]) == []  # only the teams they are in now
    assert world.my_cases("sw.a", ["north"]) == []
    assert world.my_cases("sw.b", ["north"])[0].current_step == "Complete the assessment"
    assert world.my_cases("sw.b", ["north"])[0].next_due is not None


def test_allocation_refusals_change_nothing(engine: Engine, world: Casework):
    case_id = start(engine, "Ruby Adeyemi")
    with pytest.raises(NotAllowed, match="only a manager"):
        world.allocate(case_id, "sw.a", "sw.b", teams=["north"])
    with pytest.raises(NotAllowed, match="not a social worker in this case's team"):
        world.allocate(case_id, "sw.s", "tm.n", teams=["north"])
    with pytest.raises(UnknownCase):
        world.allocate(case_id, "sw.a", "tm.n", teams=["south"])
    assert world.my_cases("sw.a", ["north"]) == []
    assert engine.audit_trail(case_id, action="case_allocated") == []


def test_a_case_allocated_as_it_starts_or_not_started_at_all(engine: Engine, world: Casework):
    """The front door's allocation is part of starting the case: one transaction."""

    def begin(by: str, to: str) -> int:
        return engine.start_case(
            "sample_referral",
            NewChild("Ivy Marsh"),
            {"referral_date": "2026-11-23"},
            by,
            council="portsmouth",
            team="north",
            allocate_to=to,
        ).id

    cases = len(engine.list_cases())
    with pytest.raises(NotAllowed, match="only a manager"):
        begin("sw.b", "sw.a")
    with pytest.raises(NotAllowed, match="not a social worker in this case's team"):
        begin("tm.n", "sw.s")
    assert len(engine.list_cases()) == cases  # neither refusal left a case behind

    case_id = begin("tm.n", "sw.a")
    assert [t.claimed_by for t in engine.get_case(case_id).tasks] == ["sw.a"]
    assert [c.child_name for c in world.my_cases("sw.a", ["north"])] == ["Ivy Marsh"]
    (told,) = engine.audit_trail(case_id, action="case_allocated")
    assert told.detail["to"] == "sw.a"


def test_search_by_misspelt_name_birth_date_or_case_number(engine: Engine, world: Casework):
    freddie = start(engine, "Freddie Lowe", dob=date(2016, 6, 6))
    start(engine, "Amara Osei", dob=date(2015, 3, 14))
    start(engine, "Freda Lowell", team="south")  # another team: never found from north

    assert [c.child_name for c in world.search(["north"], "Fredie Low")] == ["Freddie Lowe"]
    assert [c.child_name for c in world.search(["north"], "lowe")] == ["Freddie Lowe"]
    assert [c.child_name for c in world.search(["north"], "6/6/2016")] == ["Freddie Lowe"]
    assert [c.child_name for c in world.search(["north"], "14 March 2015")] == ["Amara Osei"]
    assert [c.case_id for c in world.search(["north"], str(freddie))] == [freddie]
    assert world.search(["north"], "Zebedee Quarrington") == []
    assert world.search(["south"], str(freddie)) == []
    assert [c.current_step for c in world.search(["north"], "Amara")] == ["Record consent"]


def test_team_cases_pages(engine: Engine, world: Casework):
    for n in range(3):
        start(engine, f"Child Number{n}")
    page = world.team_cases(["north"], page=1, per_page=2)
    assert page.total == 3 and page.pages == 2 and len(page.cases) == 2
    assert world.team_cases(["south"]).total == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123", ("case", 123)),
        ("Case 45", ("case", 45)),
        ("#7", ("case", 7)),
        ("2016-05-04", ("dob", date(2016, 5, 4))),
        ("4/5/2016", ("dob", date(2016, 5, 4))),
        ("4 May 2016", ("dob", date(2016, 5, 4))),
        ("31/2/2016", ("name", "31/2/2016")),
        ("  Fredie   Lowe ", ("name", "Fredie Lowe")),
    ],
)
def test_parse_query(text, expected):
    assert parse_query(text) == expected


def test_team_messages_follow_the_case_to_its_team(engine: Engine, world: Casework, fixed_clock):
    from datetime import UTC, datetime

    case = engine.start_case(
        "sample_referral", NewChild("Leon Ward"), {"referral_date": "2026-11-23"}, "tm.n",
        council="portsmouth",
    )  # fmt: skip
    (consent,) = engine.tasks(case_id=case.id)
    engine.complete_task(consent.id, CONSENT, "tm.n")
    fixed_clock.set(datetime(2026, 12, 16, 10, 0, tzinfo=UTC))
    engine.fire_due_timers()  # reminder and deadline, made while the case had no team
    assert engine.notifications("tm.n", ["north"], "team_manager") == []
    engine.move_case_to_team(case.id, "north", "tm.n")
    inbox = engine.notifications("tm.n", ["north"], "team_manager")
    assert [n.message for n in inbox] == [
        # the deadline in the words every page uses, as they stood when the sweep ran
        "Deadline passed: “Complete the assessment” for Leon Ward was due Mon 14 Dec 2026, "
        "overdue by 2 working days. It needs a team manager's attention."
    ]
    assert [n.kind for n in engine.notifications("sw.a", ["north"], "social_worker")] == [
        "reminder"
    ]


def test_search_through_the_index_for_many_teams(engine: Engine, world: Casework, monkeypatch):
    """Past TEAM_FIRST_LIMIT cases, PostgreSQL searches through the trigram index instead."""
    import engine.services.casework as casework_module

    monkeypatch.setattr(casework_module, "TEAM_FIRST_LIMIT", -1)
    start(engine, "Freddie Lowe")
    start(engine, "Freda Lowell", team="south")
    assert [c.child_name for c in world.search(["north"], "Fredie Low")] == ["Freddie Lowe"]
    assert {c.child_name for c in world.search(["north", "south"], "Fred")} == {
        "Freddie Lowe",
        "Freda Lowell",
    }


def test_the_allocated_worker_is_told_by_mail_too(engine: Engine, world: Casework):
    from engine.notify import Mail

    engine.people.add_user(
        "sw.m", "Mo M", "long enough password", "social_worker", ["north"], email="mo@example.org"
    )
    case_id = start(engine, "Zara Hussain")
    world.allocate(case_id, "sw.m", "tm.n", teams=["north"])

    class Outbox:
        sent: list[Mail] = []

        def send(self, mail: Mail) -> None:
            self.sent.append(mail)

    outbox = Outbox()
    engine.send_pending_mail(outbox)
    assert sorted(m.body for m in outbox.sent if m.to == "mo@example.org") == [
        "New step for you: “Record consent” for Zara Hussain.",
        "Zara Hussain's case is now allocated to you by TM.N.",
    ]
