"""The tests' one factories module: teams, people, started cases and the lane matrix, built with
the real engine (web, browser and integration tests alike).

A small, known world for the web and browser tests:

Three teams in two councils, people in every role, and one case per child whose single open task
sits at a chosen point relative to "now" (Monday 23 November 2026, 09:00 UTC): overdue, due
today, due soon, later, or with no deadline yet. Building it hashes passwords (slow on purpose),
so tests build it once into a template database and copy the file for each test.

    world = build_world(engine)     # on an empty, initialised engine, with the clock at NOW
    world.tasks["Ben Carter"].id    # the child's open task

Smaller pieces for tests that build their own database:

    add_team_people(engine, "north", "portsmouth", [("sw.a", "social_worker")])
    start_sample(engine, "Ada Example", team="north")          # a sample referral case
    every_role(engine, "portsmouth")  # team t1 with one person per role (the lane matrix)
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import select

from engine import clock
from engine.clock import FixedClock
from engine.people import ROLES
from engine.services import CaseInfo, Engine, NewChild
from engine.store.models import Case

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "processes" / "sample"
CONSENT_ANSWERS = ROOT / "forms" / "examples" / "consent.valid.json"

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, no bank holiday near
TODAY = date(2026, 11, 23)
PASSWORD = "correct horse battery staple"
SCRIPT_CHILD = "<script>alert('x')</script> Finn"

# key, council, name
TEAMS = [
    ("north", "portsmouth", "Portsmouth North CIN team"),
    ("south", "portsmouth", "Portsmouth South CIN team"),
    ("dudley-cin", "dudley", "Dudley CIN team"),
]

# username, display name, role, teams
USERS = [
    ("sw.north", "Sam North", "social_worker", ["north"]),
    ("sw2.north", "Priya Shah", "social_worker", ["north"]),
    ("tm.north", "Tariq Malik", "team_manager", ["north"]),
    # the other lanes' roles (processes/lanes.yaml): chairs, conference chairs, business support
    ("sp.north", "Sara Price", "senior_practitioner", ["north"]),
    ("iro.north", "Ian Rowe", "iro", ["north"]),
    ("bs.north", "Bea Sharp", "business_support", ["north"]),
    ("pm.north", "Pat Morgan", "practice_manager", ["north", "dudley-cin"]),
    ("trainer.north", "Tess Reid", "trainer", ["north"]),
    ("admin", "Ada Admin", "admin", []),
    ("sw.south", "Sol Stevens", "social_worker", ["south"]),
    ("tm.south", "Tom Stone", "team_manager", ["south"]),
]

# One signed-in person per role, all in team "north" (admin is in no team).
BY_ROLE = {
    "social_worker": "sw.north",
    "senior_practitioner": "sp.north",
    "iro": "iro.north",
    "business_support": "bs.north",
    "team_manager": "tm.north",
    "practice_manager": "pm.north",
    "trainer": "trainer.north",
    "admin": "admin",
}


@dataclass(frozen=True)
class CaseSpec:
    child: str
    team: str
    council: str
    # The referral was this many working days before TODAY; the assessment is due 15 working
    # days after it. None: consent is not recorded yet, so the open task has no deadline.
    referral_days_ago: int | None
    claimed_by: str | None = None


CASES = [
    CaseSpec("Amelia Hughes", "north", "portsmouth", 20, "sw.north"),  # overdue by 5
    CaseSpec("Ben Carter", "north", "portsmouth", 15),  # due today
    CaseSpec("Chloe Davies", "north", "portsmouth", 14, "sw2.north"),  # 1 working day left
    CaseSpec("Dylan Evans", "north", "portsmouth", 13),  # 2 working days left
    CaseSpec("Evie Foster", "north", "portsmouth", 0),  # 15 working days left
    CaseSpec(SCRIPT_CHILD, "north", "portsmouth", None),  # no deadline yet
    CaseSpec("Grace Miller", "south", "portsmouth", 12),  # another team
    CaseSpec("Harry Dudley", "dudley-cin", "dudley", 11),  # another council: 4 left
]


@dataclass(frozen=True)
class TaskRef:
    id: str
    case_id: int
    name: str
    team: str
    council: str


@dataclass
class World:
    tasks: dict[str, TaskRef] = field(default_factory=dict)  # by child's name

    def task(self, child: str) -> TaskRef:
        return self.tasks[child]


def deploy_sample(engine: Engine, councils: list[str]) -> None:
    for council in councils:
        engine.deploy([SAMPLE], "factory", "sample for web tests", council=council)


def add_people(engine: Engine, users: list = USERS, teams: list = TEAMS) -> None:
    for key, council, name in teams:
        engine.people.add_team(key, council, name)
    for username, display, role, user_teams in users:
        engine.people.add_user(username, display, PASSWORD, role, user_teams, by="factory")


def add_case(engine: Engine, spec: CaseSpec) -> TaskRef:
    """Start a sample case for the child and bring it to the wanted open task.

    The case is started on its referral day (so older cases have older tasks) and the clock is
    not swept afterwards: an overdue task keeps its passed deadline, as it does between sweeps.
    """
    started = clock.now()
    data = {}
    if spec.referral_days_ago is not None:
        referral = engine.calendar(spec.council).add_working_days(TODAY, -spec.referral_days_ago)
        started = datetime.combine(referral, time(9), UTC)
        data["referral_date"] = started.isoformat()
    with clock.using(FixedClock(min(started, clock.now()))):
        return _start(engine, spec, data)


def _start(engine: Engine, spec: CaseSpec, data: dict) -> TaskRef:
    case = engine.start_case(
        "sample_referral",
        NewChild(spec.child),
        data,
        "factory",
        council=spec.council,
        team=spec.team,
    )
    (consent,) = engine.tasks(case_id=case.id)
    task = consent
    if spec.referral_days_ago is not None:
        answers = json.loads(CONSENT_ANSWERS.read_text())
        completion = engine.complete_task(consent.id, answers, "factory")
        (task,) = completion.next_tasks
    if spec.claimed_by:
        engine.claim(task.id, spec.claimed_by)
    return TaskRef(task.id, case.id, task.name, spec.team, spec.council)


def build_world(engine: Engine, cases: list[CaseSpec] = CASES) -> World:
    deploy_sample(engine, sorted({council for _, council, _ in TEAMS}))
    add_people(engine)
    world = World()
    for spec in cases:
        world.tasks[spec.child] = add_case(engine, spec)
    return world


def add_team_people(
    engine: Engine,
    team: str,
    council: str,
    people: list[tuple[str, str]],
    password: str = PASSWORD,
    team_name: str | None = None,
) -> None:
    """A team of `council` and its people, each `(username, role)` (display name: the username
    in capitals)."""
    engine.people.add_team(team, council, team_name or f"{team.title()} CIN team")
    for username, role in people:
        engine.people.add_user(username, username.upper(), password, role, [team])


def start_sample(
    engine: Engine,
    child: str,
    *,
    team: str | None = "north",
    council: str | None = "portsmouth",
    by: str = "factory",
    referral_date: str | None = "2026-11-23",
    date_of_birth: date | None = None,
) -> CaseInfo:
    """A sample referral case (processes/sample, deployed first) for `child`."""
    data = {"referral_date": referral_date} if referral_date else {}
    return engine.start_case(
        "sample_referral",
        NewChild(child, date_of_birth),
        data,
        by,
        council=council,
        team=team,
    )


# The lane matrix: tests/integration/data/every_lane.bpmn has one user task per lane.
EVERY_LANE = ROOT / "tests" / "integration" / "data" / "every_lane.bpmn"
LANE_OF_STEP = {
    "sw_step": "Social worker",
    "tm_step": "Team manager",
    "chair_step": "Chair",
    "iro_step": "Conference chair / IRO",
    "bs_step": "Business support",
}
# Who may act in each lane (processes/lanes.yaml; the seeds name the chairs). Written out here,
# not read from the file, so a change to the mapping is a deliberate change to the tests too.
MAY_ACT = {
    "Social worker": {"social_worker", "senior_practitioner", "team_manager", "practice_manager"},
    "Team manager": {"team_manager", "practice_manager"},
    "Chair": {"senior_practitioner", "team_manager"},
    "Conference chair / IRO": {"iro"},
    "Business support": {"business_support", "team_manager"},
}


def every_role(engine: Engine, council: str, team: str = "t1") -> dict[str, str]:
    """One registered person per role, in one team of `council`: role -> username."""
    engine.people.add_team(team, council, "Team one")
    out = {}
    for role in ROLES:
        username = f"{role.replace('_', '-')}.one"
        engine.people.add_user(username, role, "a long password 123", role, [team])
        out[role] = username
    return out


def start_every_lane(
    engine: Engine, child: str, by: str, team: str, council: str | None = None
) -> dict[str, str]:
    """A case of the lane matrix (every_lane.bpmn, deployed first): element id -> task id."""
    case = engine.start_case("every_lane", NewChild(child), {}, by, council=council, team=team)
    return {t.element_id: t.id for t in case.tasks}


def stored_state_size(engine: Engine, case_id: int) -> int:
    """How many characters of SpiffWorkflow state a case stores (pruning keeps it small)."""
    with engine.db.connect() as conn:
        state = conn.execute(select(Case.state_json).where(Case.id == case_id)).scalar_one()
    return len(state)


ON_NON_WORKING_DAYS = "calendar_deadlines_on_non_working_days: keep"


def processes_rolling_back(tmp: Path) -> Path:
    """A copy of the shipped packs in which Portsmouth rolls a calendar-day deadline that falls
    on a non-working day back to the working day before (`roll_back`)."""
    copy = tmp / "processes"
    shutil.copytree(ROOT / "processes", copy)
    timescales = copy / "portsmouth" / "timescales.yaml"
    text = timescales.read_text(encoding="utf-8")
    assert ON_NON_WORKING_DAYS in text
    rolled = ON_NON_WORKING_DAYS.replace("keep", "roll_back")
    timescales.write_text(text.replace(ON_NON_WORKING_DAYS, rolled), encoding="utf-8")
    return copy


def planned_return_home(
    engine: Engine,
    fixed_clock: FixedClock,
    *,
    worker: str = "factory",
    chair: str = "factory",
    team: str | None = None,
) -> int:
    """P16 (Portsmouth): a planned return home on Christmas Eve 2026, its outline plan agreed
    and sent; the first planning meeting ("arrange_meeting") is due within 10 calendar days,
    on Sunday 3 January 2027. Returns the case id."""
    fixed_clock.set(datetime(2026, 12, 24, 10, tzinfo=UTC))
    engine.deploy_pack("portsmouth", "admin")
    case = engine.start_case(
        "portsmouth_return_home_planned",
        NewChild("Ella Short"),
        {"cin_start_date": "2026-12-24"},
        worker,
        council="portsmouth",
        team=team,
    )
    outline = next(t for t in case.tasks if t.element_id == "outline_plan")
    engine.complete_task(
        outline.id,
        {
            **engine.training.example_answers("chair_agreement.json"),
            "step_down_route": "return_home_planned",
            "event_date": "2026-12-24",
            "chair_role": "conference_chair_iro",
            "first_planning_meeting_date": "2026-12-31",
        },
        chair,
    )
    send = next(t for t in engine.get_case(case.id).tasks if t.element_id == "send_outline_plan")
    engine.complete_task(
        send.id,
        {"document": "outline_cin_plan", "sent_date": "2026-12-24", "recipients": ["parents"]},
        worker,
    )
    return case.id
