"""Read sessions: a social worker's round of pages and steps is planned once per connection,
not per request, and a read session never writes.

On PostgreSQL psycopg prepares a statement on its fifth run on a connection, and forgets every
prepared statement at a ROLLBACK. Reads used to end in one (a session closed without
committing), so the task page, the case page, the worklist and the inbox were planned afresh on
every request, and so was the completion that followed them on the same connection. Reads now
run in autocommit (`engine.store.db.read_session_factory`); this drives the round a person
makes, over and over, and checks what the server kept. SQLite: the same round, for what it
shows.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update

from engine.clock import FixedClock
from engine.returns.service import Returns
from engine.services import Engine, NewChild
from engine.store.db import ReadOnlySession, read_transaction
from engine.store.models import Team

ROOT = Path(__file__).resolve().parents[2]
VISITS = ROOT / "bench" / "visits.bpmn"
VISIT = json.loads((ROOT / "forms/examples/visit_record.valid.json").read_text())
QUIET = {k: v for k, v in VISIT.items() if k != "significant_change_details"}
QUIET["significant_change"] = False


def prepared_statements(engine: Engine) -> list[str]:
    """What the server keeps prepared on the pool's connections (all of them checked out)."""
    with engine.db.connect() as one, engine.db.connect() as two:
        return [
            statement
            for conn in (one, two)
            for statement in conn.exec_driver_sql(
                "SELECT statement FROM pg_prepared_statements"
            ).scalars()
        ]


def test_the_pages_and_steps_of_a_round_stay_planned(
    engine: Engine, fixed_clock: FixedClock
) -> None:
    engine.deploy([VISITS], "pm1", "a loop of visits and reviews")
    case = engine.start_case("bench_visits", NewChild("Pia Planned"), {}, "sw1")
    for _ in range(7):
        (task,) = engine.get_case(case.id).tasks  # the case page
        assert engine.task(task.id).name == "Record a visit"  # the task page
        page = engine.worklist(case_id=case.id)
        assert [t.id for t in page.tasks] == [task.id]
        engine.notifications("sw1", [], "social_worker")  # the header
        done = engine.complete_task(task.id, QUIET, "sw1")
        assert [t.name for t in done.next_tasks] == ["Record a visit"]
        fixed_clock.advance(timedelta(days=3))
    if engine.db.dialect.name != "postgresql":
        return
    kept = prepared_statements(engine)
    assert any("FOR UPDATE" in s for s in kept), kept  # the completion's lock of the case
    assert any("LIMIT" in s and "FROM task" in s for s in kept), kept  # the worklist's page
    assert any("FROM notification" in s for s in kept), kept  # the inbox


def test_a_manager_s_reports_between_steps_keep_the_steps_planned(
    engine: Engine, fixed_clock: FixedClock
) -> None:
    """The reports need a transaction (their server-side cursor) and used to end it in a
    ROLLBACK, which made psycopg forget the connection's prepared statements: a manager opening
    the oversight page between a worker's steps had every step planned afresh. They commit now."""
    engine.deploy([VISITS], "pm1", "a loop of visits and reviews")
    case = engine.start_case("bench_visits", NewChild("Rhys Reported"), {}, "sw1")
    council = engine.get_case(case.id).council
    returns = Returns.for_engine(engine)
    start = fixed_clock.now().date()
    for _ in range(7):
        (task,) = engine.get_case(case.id).tasks
        engine.complete_task(task.id, QUIET, "sw1")
        view = returns.oversight(council, start, start + timedelta(days=30))
        assert sum(view.caseload_by_team.values()) == 1
        assert len(returns.annex_a(council)) == 1
        fixed_clock.advance(timedelta(days=3))
    if engine.db.dialect.name != "postgresql":
        return
    kept = prepared_statements(engine)
    assert any("FOR UPDATE" in s for s in kept), kept  # the completion's lock of the case


def test_a_report_s_transaction_refuses_to_write(engine: Engine) -> None:
    """It ends in COMMIT, so nothing may be written in it."""
    engine.people.add_team("t9", "north", "Team Nine")
    with pytest.raises(ReadOnlySession), read_transaction(engine.sessions) as s:
        s.get(Team, "t9").name = "Renamed"
        s.scalars(select(Team)).all()  # autoflush before the query
    with pytest.raises(ReadOnlySession), read_transaction(engine.sessions) as s:
        s.execute(insert(Team).values(key="t10", council_key="north", name="Team Ten"))
    assert [(t.key, t.name) for t in engine.worklist_teams(["t9", "t10"])] == [
        ("t9", "Team Nine")
    ]


def test_a_read_session_refuses_to_write_and_nothing_is_saved(engine: Engine) -> None:
    """On PostgreSQL a read session is in autocommit, where a write would be saved at once and
    alone: every kind of write is refused before it reaches the database, on both databases."""
    engine.people.add_team("t9", "north", "Team Nine")
    reads = engine.work.ctx.reads
    with reads() as s, pytest.raises(ReadOnlySession, match="use unit_of_work"):
        s.add(Team(key="t10", council_key="north", name="Team Ten"))
        s.flush()
    with reads() as s, pytest.raises(ReadOnlySession):
        s.get(Team, "t9").name = "Renamed"
        s.scalars(select(Team)).all()  # autoflush before the query
    for write in (
        insert(Team).values(key="t11", council_key="north", name="Team Eleven"),
        update(Team).where(Team.key == "t9").values(name="Renamed"),
        delete(Team).where(Team.key == "t9"),
    ):
        with reads() as s, pytest.raises(ReadOnlySession):
            s.execute(write)
    assert [(t.key, t.name) for t in engine.worklist_teams(["t9", "t10", "t11"])] == [
        ("t9", "Team Nine")
    ]
