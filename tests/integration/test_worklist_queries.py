"""The worklist queries (Engine.worklist, worklist_counts, worklist_task_names, worklist_teams):
every filter, the order, paging totals and team limits, in SQL on SQLite and PostgreSQL.

The rows are written straight into the projection tables (no workflow runs): these tests are
about the queries. The clock is Monday 23 November 2026, 09:00 UTC (09:00 in London); council
"north" is closed on Wednesday 25 November, so its "2 working days" reach Thursday while
"south"'s end on Wednesday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from engine.calendar import LONDON, due_date, working_days_left
from engine.services import ClaimerCounts, Engine, WorklistPage
from engine.store.models import (
    Case,
    Child,
    ClosureDay,
    Council,
    ProcessVersion,
    TaskRow,
    Team,
    User,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # tests/conftest.py's fixed clock
CREATED = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def end_of(day: int) -> datetime:
    """The end of a November 2026 day in London (GMT in November)."""
    return datetime(2026, 11, day, 23, 59, 59, tzinfo=UTC)


@dataclass(frozen=True)
class Spec:
    id: str
    team: str
    child: str
    element: str
    due: datetime | None
    claimed_by: str | None = None
    created: int = 0  # minutes after CREATED
    training: bool = False


NAMES = {
    "complete_assessment": "Complete the assessment",
    "record_consent": "Record consent",
    "review_plan": "review the plan",  # lower case: sorted ignoring case
}
COUNCIL_OF = {"t1": "north", "t2": "north", "t3": "south"}

SPECS = [
    Spec("a01", "t1", "Amelia Hughes", "complete_assessment", end_of(16), "sw1"),  # overdue
    Spec("a02", "t1", "Ben Carter", "complete_assessment", NOW - timedelta(hours=1)),  # overdue
    Spec("a03", "t1", "Chloe Davies", "record_consent", end_of(23), created=30),  # today
    Spec("a04", "t1", "Dylan Evans", "complete_assessment", end_of(26), "sw2"),  # soon (north)
    Spec("a05", "t1", "Evie Foster", "review_plan", end_of(27)),  # later
    Spec("a06", "t1", "Finn 100%_Jones", "record_consent", None, created=5),
    Spec("a07", "t1", "Grace EVANS", "record_consent", None, created=1),
    Spec("a08", "t1", "Harry Ives", "record_consent", end_of(23), created=10),  # today
    Spec("a09", "t1", "Isla Jones", "record_consent", end_of(23), created=30),  # ties a03
    Spec("a10", "t1", "Jack Khan", "complete_assessment", end_of(28), "sw1"),  # Saturday
    Spec("b01", "t2", "Kai Lewis", "complete_assessment", datetime(2026, 11, 24, 12, tzinfo=UTC)),
    Spec("c01", "t3", "Leah Morgan", "complete_assessment", end_of(26)),  # not soon (south)
    Spec("c02", "t3", "Mo Nowak", "complete_assessment", end_of(25), "sw3"),  # soon (south)
    Spec("c03", "t3", "Nia Owen", "review_plan", end_of(30)),
    Spec("x01", "t1", "Training Child", "complete_assessment", end_of(24), training=True),
]
T1 = [s for s in SPECS if s.team == "t1" and not s.training]


@pytest.fixture
def world(engine: Engine) -> Engine:
    with engine.sessions() as s, s.begin():
        s.add_all([Council(key="north", name="North"), Council(key="south", name="South")])
        s.flush()  # no relationships here: parents are written first by hand
        s.add_all(
            [
                Team(key="t1", council_key="north", name="North One"),
                Team(key="t2", council_key="north", name="North Two"),
                Team(key="t3", council_key="south", name="South Team"),
            ]
        )
        s.flush()
        s.add(ClosureDay(council_key="north", day=date(2026, 11, 25), reason="Closure"))
        version = ProcessVersion(
            council_key="north", process_id="p", name="P", version=1, sha256="0" * 64,
            file_name="p.bpmn", xml="<x/>", spec_json="{}", serializer_version="1",
            deployed_by="test", deployed_at=NOW,
        )  # fmt: skip
        s.add(version)
        s.flush()
        for spec in SPECS:
            council = COUNCIL_OF[spec.team]
            child = Child(council_key=council, name=spec.child, created_at=CREATED)
            case = Case(
                child=child, process_version_id=version.id, council_key=council,
                state_json="{}", serializer_version="1", started_by="test", opened_at=CREATED,
                team_key=spec.team, training=spec.training,
            )  # fmt: skip
            s.add(case)
            s.flush()
            s.add(
                TaskRow(
                    id=spec.id, case_id=case.id, council_key=council, element_id=spec.element,
                    name=NAMES[spec.element], lane="Social worker", due_at=spec.due,
                    created_at=CREATED + timedelta(minutes=spec.created),
                    claimed_by=spec.claimed_by, training=spec.training, team_key=spec.team,
                )
            )  # fmt: skip
    return engine


def ids(page: WorklistPage) -> list[str]:
    return [t.id for t in page.tasks]


def in_order(specs: list[Spec]) -> list[str]:
    """The reference order: soonest deadline, none last; then the oldest; then the id."""
    key = lambda s: (s.due is None, s.due or NOW, s.created, s.id)  # noqa: E731
    return [s.id for s in sorted(specs, key=key)]


def everything(engine: Engine, **filters) -> WorklistPage:  # noqa: ANN003
    return engine.worklist(per_page=100, **filters)


def is_due_soon(engine: Engine, spec: Spec, days: int) -> bool:
    """What the worklist shows as "Due today" or "n working days left" (n <= days)."""
    if spec.due is None or spec.due < NOW:
        return False
    calendar = engine.calendar(COUNCIL_OF[spec.team])
    return working_days_left(NOW.astimezone(LONDON).date(), due_date(spec.due), calendar) <= days


# -- order, teams, paging ------------------------------------------------------------------------


def test_one_team_soonest_deadline_first_none_last_then_oldest_then_id(world: Engine) -> None:
    page = everything(world, teams=["t1"])
    assert ids(page) == in_order(T1)
    # Equal deadlines: the oldest first (a08), then by id (a03, a09); no deadline last.
    assert ids(page) == ["a01", "a02", "a08", "a03", "a09", "a04", "a05", "a10", "a07", "a06"]
    assert (page.total, page.page, page.pages, page.per_page) == (len(T1), 1, 1, 100)
    first = page.tasks[0]
    assert (first.child_name, first.name, first.council, first.team) == (
        "Amelia Hughes", "Complete the assessment", "north", "t1",
    )  # fmt: skip


def test_teams_limit_what_is_seen(world: Engine) -> None:
    assert {t.team for t in everything(world, teams=["t2", "t3"]).tasks} == {"t2", "t3"}
    assert ids(everything(world, teams=["t2"])) == ["b01"]
    nothing = everything(world, teams=[])
    assert (nothing.tasks, nothing.total, nothing.page, nothing.pages) == ([], 0, 1, 1)
    assert everything(world, teams=["no-such-team"]).total == 0
    # No teams given: every team's (the engine's own callers, not a user's view).
    assert everything(world).total == len([s for s in SPECS if not s.training])


def test_training_tasks_only_when_asked(world: Engine) -> None:
    assert "x01" not in ids(everything(world, teams=["t1"]))
    assert "x01" in ids(everything(world, teams=["t1"], include_training=True))


def test_pages_cover_every_task_once_and_a_page_out_of_range_gives_the_nearest(
    world: Engine,
) -> None:
    pages = [world.worklist(teams=["t1"], per_page=3, page=n) for n in (1, 2, 3, 4)]
    assert [p.total for p in pages] == [len(T1)] * 4
    assert [p.pages for p in pages] == [4] * 4
    assert [len(p.tasks) for p in pages] == [3, 3, 3, 1]
    assert [i for p in pages for i in ids(p)] == in_order(T1)
    assert world.worklist(teams=["t1"], per_page=3, page=99).page == 4
    assert ids(world.worklist(teams=["t1"], per_page=3, page=99)) == ids(pages[3])
    assert ids(world.worklist(teams=["t1"], per_page=3, page=0)) == ids(pages[0])
    assert ids(world.worklist(teams=["t1"], per_page=3, page=-5)) == ids(pages[0])


def test_totals_count_every_match_not_just_the_page(world: Engine) -> None:
    page = world.worklist(teams=["t1"], unclaimed_only=True, per_page=2)
    unclaimed = [s for s in T1 if s.claimed_by is None]
    assert (page.total, page.pages, len(page.tasks)) == (len(unclaimed), 4, 2)


# -- each filter ----------------------------------------------------------------------------------


def test_claimed_by_and_unclaimed_only(world: Engine) -> None:
    assert ids(everything(world, teams=["t1"], claimed_by="sw1")) == ["a01", "a10"]
    unclaimed = everything(world, teams=["t1", "t2", "t3"], unclaimed_only=True)
    assert ids(unclaimed) == in_order([s for s in SPECS if s.claimed_by is None and not s.training])
    assert everything(world, claimed_by="sw1", unclaimed_only=True).total == 0


def test_child_name_contains_ignores_case(world: Engine) -> None:
    assert ids(everything(world, teams=["t1"], child_name_contains="evans")) == ["a04", "a07"]
    assert ids(everything(world, teams=["t1"], child_name_contains="JONES")) == ["a09", "a06"]
    assert everything(world, teams=["t3"], child_name_contains="evans").total == 0


@pytest.mark.parametrize(("wanted", "found"), [("%", ["a06"]), ("0%_j", ["a06"]), ("_", ["a06"])])
def test_child_name_wildcards_are_plain_characters(world: Engine, wanted: str, found: list) -> None:
    assert ids(everything(world, child_name_contains=wanted)) == found


def test_task_by_name_or_element_id(world: Engine) -> None:
    consent = in_order([s for s in T1 if s.element == "record_consent"])
    assert ids(everything(world, teams=["t1"], task="Record consent")) == consent
    assert ids(everything(world, teams=["t1"], task="record_consent")) == consent
    assert everything(world, teams=["t1"], task="Record").total == 0  # whole names only


def test_council(world: Engine) -> None:
    assert ids(everything(world, council="south")) == ["c02", "c01", "c03"]
    assert everything(world, teams=["t1"], council="south").total == 0


def test_lane(world: Engine) -> None:
    assert everything(world, teams=["t1"], lane="Social worker").total == len(T1)
    assert everything(world, teams=["t1"], lane="Team manager").total == 0


def test_due_before_and_due_after(world: Engine) -> None:
    before = everything(world, teams=["t1"], due_before=end_of(23))
    assert ids(before) == ["a01", "a02"]  # due_at < the instant; no deadline never matches
    after = everything(world, teams=["t1"], due_after=end_of(26))
    assert ids(after) == ["a04", "a05", "a10"]  # due_at >= the instant
    both = everything(world, teams=["t1"], due_after=NOW, due_before=end_of(26))
    assert ids(both) == ["a08", "a03", "a09"]


def test_overdue_is_a_passed_deadline(world: Engine) -> None:
    assert ids(everything(world, overdue=True)) == ["a01", "a02"]


@pytest.mark.parametrize("days", [0, 1, 2, 3, 5])
def test_due_soon_matches_the_working_day_count_of_each_council(world: Engine, days: int) -> None:
    expected = [s for s in SPECS if not s.training and is_due_soon(world, s, days)]
    assert ids(everything(world, due_soon_days=days)) == in_order(expected)


def test_due_soon_uses_the_councils_closure_days(world: Engine) -> None:
    soon = ids(everything(world, due_soon_days=2))
    # Thursday 26th is 2 working days away in north (closed on the 25th), 3 in south.
    assert "a04" in soon and "c01" not in soon
    assert "c02" in soon  # Wednesday 25th in south
    assert "a02" not in soon and "a01" not in soon  # overdue is not "soon"
    assert "a05" not in soon and "a06" not in soon


def test_filters_combine(world: Engine) -> None:
    page = everything(
        world, teams=["t1", "t2", "t3"], unclaimed_only=True, task="complete_assessment",
        due_soon_days=5, council="north",
    )  # fmt: skip
    assert ids(page) == ["b01"]
    page = everything(world, teams=["t1", "t3"], task="record_consent", child_name_contains="o")
    assert ids(page) == ["a03", "a09", "a06"]


# -- for the filter list and the team overview --------------------------------------------------


def test_task_names_are_distinct_and_sorted_ignoring_case(world: Engine) -> None:
    assert world.worklist_task_names(teams=["t1"]) == [
        "Complete the assessment",
        "Record consent",
        "review the plan",
    ]
    assert world.worklist_task_names(teams=["t2"]) == ["Complete the assessment"]
    assert world.worklist_task_names(teams=["t1"], claimed_by="sw1") == ["Complete the assessment"]
    assert world.worklist_task_names(council="south") == [
        "Complete the assessment",
        "review the plan",
    ]
    assert world.worklist_task_names(teams=[]) == []


def test_counts_per_team_and_claimer(world: Engine) -> None:
    counts = world.worklist_counts(teams=["t1", "t3"], due_soon_days=2)
    expected = {}
    for s in SPECS:
        if s.training or s.team not in ("t1", "t3"):
            continue
        total, soon, late = expected.get((s.team, s.claimed_by), (0, 0, 0))
        expected[(s.team, s.claimed_by)] = (
            total + 1,
            soon + is_due_soon(world, s, 2),
            late + (s.due is not None and s.due < NOW),
        )
    assert {(c.team, c.claimed_by): (c.total, c.due_soon, c.overdue) for c in counts} == expected
    assert counts[0] == ClaimerCounts("t1", "sw1", 2, 0, 1)
    assert [(c.team, c.claimed_by) for c in counts] == [
        ("t1", "sw1"), ("t1", "sw2"), ("t1", None), ("t3", "sw3"), ("t3", None),
    ]  # fmt: skip
    assert world.worklist_counts(teams=[]) == []


def test_teams_by_key(world: Engine) -> None:
    teams = world.worklist_teams(["t3", "t1", "nope"])
    assert [(t.key, t.council, t.name) for t in teams] == [
        ("t1", "north", "North One"),
        ("t3", "south", "South Team"),
    ]


def test_display_names_of_the_people_holding_tasks(world: Engine) -> None:
    with world.sessions() as s, s.begin():
        for username, name in [("sw1", "Sam One"), ("sw2", "Priya Two")]:
            s.add(
                User(username=username, display_name=name, password_hash="-", role="social_worker",
                     created_at=NOW)
            )  # fmt: skip
    assert world.worklist_display_names(["sw2", "sw1", "gone", None, "sw1"]) == {
        "sw1": "Sam One",
        "sw2": "Priya Two",
    }
    assert world.worklist_display_names([]) == {}


# -- the existing tasks() --------------------------------------------------------------------------


def test_tasks_still_lists_everything_in_the_same_order(world: Engine) -> None:
    assert [t.id for t in world.tasks(teams=["t1"])] == in_order(T1)
    assert [t.id for t in world.tasks(teams=["t1"], claimed_by="sw1")] == ["a01", "a10"]
    assert [t.id for t in world.tasks(council="south")] == ["c02", "c01", "c03"]
    training_case = next(t for t in world.tasks(include_training=True) if t.id == "x01").case_id
    assert [t.id for t in world.tasks(case_id=training_case)] == ["x01"]


# -- reads without a transaction (PostgreSQL) ---------------------------------------------------


def unclaimed_tab(engine: Engine) -> list[str]:
    """What the worklist's unclaimed tab reads for a social worker of team t1, in its order."""
    engine.worklist_teams(["t1"])
    engine.worklist_task_names(teams=["t1"], unclaimed_only=True)
    page = engine.worklist(teams=["t1"], unclaimed_only=True)
    engine.worklist_counts(teams=["t1"])
    engine.worklist_display_names(["sw1"])
    engine.notifications("sw1", ["t1"], "social_worker", unread_only=True)  # the header's count
    return [t.id for t in page.tasks]


def test_the_worklist_is_planned_once_per_connection_and_sees_each_change(world: Engine) -> None:
    """The worklist and the inbox read in autocommit on PostgreSQL: psycopg forgets its prepared
    statements at every ROLLBACK, so reads that ended in one were planned afresh on every call
    (about a fifth of the unclaimed tab's time at national scale). Each statement still reads
    the latest committed rows: a task claimed between two calls leaves the unclaimed tab at once.
    """
    unclaimed = unclaimed_tab(world)
    for _ in range(6):  # psycopg prepares a statement on its fifth run on a connection
        assert unclaimed_tab(world) == unclaimed
    if world.db.dialect.name == "postgresql":
        with world.db.connect() as conn:  # the pool's one connection, the worklist's
            prepared = conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
            statements = prepared.scalars().all()
        for read in ("SELECT count(*)", "LIMIT", "GROUP BY", "FROM notification", "FROM team"):
            assert any(read in statement for statement in statements), (read, statements)
    with world.sessions() as s:
        s.get(TaskRow, unclaimed[0]).claimed_by = "sw2"
        s.commit()
    assert unclaimed_tab(world) == unclaimed[1:]
