"""Deadlines: reminders and escalations reach people; calendar changes move pending deadlines."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import FixedClock
from engine.notify import FileSender
from engine.services import Engine, NewChild, context, deadlines

ROOT = Path(__file__).resolve().parents[2]
CONSENT = json.loads((ROOT / "forms" / "examples" / "consent.valid.json").read_text())
PASSWORD = "correct horse battery"


@pytest.fixture
def team(engine: Engine) -> Engine:
    engine.deploy([ROOT / "processes" / "sample"], "pm1")
    engine.people.add_team("north", "any", "North CIN team")
    engine.people.add_user(
        "sw1", "Sam Worker", PASSWORD, "social_worker", ["north"], email="sw1@example.test"
    )
    engine.people.add_user(
        "tm1", "Tara Manager", PASSWORD, "team_manager", ["north"], email="tm1@example.test"
    )
    return engine


def assessment_case(engine: Engine, referral: str = "2026-12-14") -> int:
    case = engine.start_case(
        "sample_referral", NewChild("Ada Example"), {"referral_date": referral}, "sw1", team="north"
    )
    engine.complete_task(case.tasks[0].id, CONSENT, "sw1")
    return case.id


def test_reminder_to_the_worker_and_escalation_to_the_manager(
    team: Engine, fixed_clock: FixedClock, tmp_path: Path
) -> None:
    case_id = assessment_case(team)
    task = team.tasks(case_id=case_id)[0]
    team.claim(task.id, "sw1")
    # Due Thursday 7 January 2027 (15 working days from 14 December across Christmas);
    # the sample reminds 2 working days before: Tuesday 5 January.
    fixed_clock.set(datetime(2027, 1, 6, 9, tzinfo=UTC))
    assert team.fire_due_timers() == 1
    inbox = team.notifications("sw1", ["north"], "social_worker")
    assert [n.kind for n in inbox] == ["reminder"]
    assert inbox[0].message == (  # the deadline in the words every page uses, as sent
        "Reminder: “Complete the assessment” for Ada Example is due Thu 7 Jan 2027, tomorrow."
    )
    assert team.notifications("tm1", ["north"], "team_manager") == []

    fixed_clock.set(datetime(2027, 1, 8, 0, 0, tzinfo=UTC))
    assert team.fire_due_timers() == 1
    manager = team.notifications("tm1", ["north"], "team_manager")
    assert [n.kind for n in manager] == ["deadline"] and "Deadline passed" in manager[0].message
    assert [n.kind for n in team.notifications("sw1", ["north"], "social_worker")] == ["reminder"]
    assert team.notifications("tm1", ["south"], "team_manager") == []

    outbox = tmp_path / "outbox.txt"
    assert team.send_pending_mail(FileSender(outbox)) == 2
    text = outbox.read_text()
    assert "To: sw1@example.test" in text and "To: tm1@example.test" in text
    assert team.send_pending_mail(FileSender(outbox)) == 0  # each mail once

    team.mark_notification_read(manager[0].id, "tm1", ["north"], "team_manager")
    assert team.notifications("tm1", ["north"], "team_manager", unread_only=True) == []


def test_a_deadline_on_25_december_moves_past_the_substitute_day(team: Engine) -> None:
    # 15 working days from Thursday 3 December 2026 is Thursday 24 December; from Friday 4
    # December it would be 25 December, a bank holiday, so it is Tuesday 29 December (28th is
    # the substitute Boxing Day).
    case_id = assessment_case(team, "2026-12-04")
    due = team.tasks(case_id=case_id)[0].due_at
    assert due == datetime(2026, 12, 29, 23, 59, 59, tzinfo=UTC)


def test_a_closure_day_moves_exactly_the_affected_deadlines(
    team: Engine, fixed_clock: FixedClock
) -> None:
    early = assessment_case(team, "2026-11-23")  # due Monday 14 December
    late = assessment_case(team, "2026-12-14")  # due Thursday 7 January 2027
    before = {c: {t.element_id: t.due_at for t in team.timers(case_id=c)} for c in (early, late)}
    moved = team.add_closure_day("any", date(2026, 12, 24), "Christmas Eve closure", "admin")
    after = {c: {t.element_id: t.due_at for t in team.timers(case_id=c)} for c in (early, late)}
    assert after[early] == before[early]  # 14 December is before the closure: untouched
    assert after[late]["assessment_deadline"] == before[late]["assessment_deadline"] + timedelta(
        days=1
    )
    assert after[late]["assessment_reminder"] == before[late]["assessment_reminder"] + timedelta(
        days=1
    )
    assert moved == 2
    task = team.tasks(case_id=late)[0]
    assert task.due_at == datetime(2027, 1, 8, 23, 59, 59, tzinfo=UTC)
    audit = team.audit_trail(late, action="deadline_recomputed")
    assert len(audit) == 2 and audit[0].detail["reason"] == "closure day 2026-12-24 added"


def test_a_closure_day_added_by_another_process_is_used_within_the_recheck_time(
    team: Engine, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web app adds the day; a worker (another Engine) builds new deadlines with it."""
    elsewhere = Engine(db_url)
    try:
        first = assessment_case(team)  # reads the calendar: no closure days yet
        elsewhere.add_closure_day("any", date(2026, 12, 24), "Christmas Eve closure", "admin")
        # the adding process moved the pending deadline (7 -> 8 January) ...
        due = {t.element_id: t.due_at for t in team.timers(case_id=first)}
        assert due["assessment_deadline"] == datetime(2027, 1, 8, 23, 59, 59, tzinfo=UTC)
        # ... and once the recheck time has passed, this one counts the day for new deadlines
        read_at = context.monotonic()
        monkeypatch.setattr(context, "monotonic", lambda: read_at + context.CALENDAR_RECHECK_S + 1)
        later = assessment_case(team)
        due = {t.element_id: t.due_at for t in team.timers(case_id=later)}
        assert due["assessment_deadline"] == datetime(2027, 1, 8, 23, 59, 59, tzinfo=UTC)
        assert not team.calendar("any").is_working_day(date(2026, 12, 24))
    finally:
        elsewhere.dispose()


def test_a_deadline_set_with_the_old_calendar_is_corrected_by_a_sweep_after_the_window(
    team: Engine, db_url: str, fixed_clock: FixedClock
) -> None:
    """Another process adds a closure day while this one (still on its old calendar) starts a
    case; once every process has re-read the calendar, a sweep moves that deadline too."""
    elsewhere = Engine(db_url)
    try:
        assessment_case(team)  # this process has read the calendar
        elsewhere.add_closure_day("any", date(2026, 12, 24), "Christmas Eve closure", "admin")
        stale = assessment_case(team)  # within the recheck time: the old calendar
        due = {t.element_id: t.due_at for t in team.timers(case_id=stale)}
        assert due["assessment_deadline"] == datetime(2027, 1, 7, 23, 59, 59, tzinfo=UTC)
        team.fire_due_timers()  # too early: other processes may still be on the old calendar
        assert team.audit_trail(stale, action="deadline_recomputed") == []
        fixed_clock.advance(timedelta(seconds=context.CALENDAR_RECHECK_S + 1))
        elsewhere.fire_due_timers()  # any process's sweep will do
        due = {t.element_id: t.due_at for t in team.timers(case_id=stale)}
        assert due["assessment_deadline"] == datetime(2027, 1, 8, 23, 59, 59, tzinfo=UTC)
        moves = team.audit_trail(stale, action="deadline_recomputed")  # deadline and reminder
        assert len(moves) == 2
        assert all(m.actor == "scheduler" and "being set" in m.detail["reason"] for m in moves)
        assert team.tasks(case_id=stale)[0].due_at == datetime(2027, 1, 8, 23, 59, 59, tzinfo=UTC)
        fixed_clock.advance(timedelta(seconds=15))
        elsewhere.fire_due_timers()  # later sweeps in the window find nothing more to move
        assert len(team.audit_trail(stale, action="deadline_recomputed")) == 2
    finally:
        elsewhere.dispose()


def test_a_sweep_goes_on_past_a_batch_another_worker_fired_first(
    team: Engine, fixed_clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL: a claim whose snapshot predates another worker's commit can lock only cases
    that worker has just fired. That batch fires nothing, but due timers are left: the sweep
    must go on, not wait for its next interval (at national scale workers idled 15 s each)."""
    first, second = assessment_case(team), assessment_case(team)
    fixed_clock.set(datetime(2027, 1, 6, 9, tzinfo=UTC))  # both reminders are due
    store = team.deadlines.store
    with team.sessions() as s:
        [stale] = store.claim_due_cases(s, fixed_clock.now(), first, 1)
    assert team.fire_due_timers(first) == 1  # "the other worker" fires the first case

    claims = []

    def claim(s, now, case_id, batch):  # noqa: ANN001, ANN202
        claims.append(case_id)
        return [stale] if len(claims) == 1 else type(store).claim_due_cases(s, now, case_id, batch)

    monkeypatch.setattr(store, "claim_due_cases", claim)
    assert team.fire_due_timers() == 1  # the second case, in the same sweep
    assert [t.case_id for t in team.timers(due_before=fixed_clock.now())] == []
    assert len(claims) == 3  # the stale batch, the second case, and one that found nothing
    assert {n.case_id for n in team.notifications("sw1", ["north"], "social_worker")} >= {
        first,
        second,
    }


def test_a_big_sweep_leaves_the_planner_statistics_current(
    team: Engine, fixed_clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sweep that fires many timers re-samples the tables it rewrote (PostgreSQL), so the
    worklist's plans see the new row counts at once, not at autovacuum's next visit (at national
    scale the unclaimed tab stayed 1.8x slower after a sweep until an ANALYZE). Here "many" is 2."""
    cases = [assessment_case(team) for _ in range(3)]
    fixed_clock.set(datetime(2027, 1, 6, 9, tzinfo=UTC))  # every reminder is due

    def sampled_rows() -> dict[str, float]:
        """The planner's row count of each swept table (-1: never sampled)."""
        with team.db.connect() as conn:
            return dict(
                conn.exec_driver_sql(
                    "SELECT relname, reltuples FROM pg_class"
                    " WHERE oid IN ('task'::regclass, 'timer'::regclass, '\"case\"'::regclass)"
                ).all()
            )

    def rows() -> dict[str, int]:
        with team.db.connect() as conn:
            return {
                name: conn.exec_driver_sql(f"SELECT count(*) FROM {quoted}").scalar_one()
                for name, quoted in (("task", "task"), ("timer", "timer"), ("case", '"case"'))
            }

    monkeypatch.setattr(deadlines, "STATISTICS_AFTER", 2)
    if team.db.dialect.name != "postgresql":
        assert team.fire_due_timers() == 3  # SQLite: nothing to refresh, nothing refused
        return
    before = sampled_rows()
    assert team.fire_due_timers() == 3
    after = sampled_rows()
    assert after != before
    assert after == {name: float(n) for name, n in rows().items()}
    assert {n.case_id for n in team.notifications("sw1", ["north"], "social_worker")} == set(cases)


def test_a_small_sweep_does_not_refresh_the_statistics(
    team: Engine, fixed_clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The day's ordinary sweeps fire a few timers each and never pay for an ANALYZE."""
    assessment_case(team)
    fixed_clock.set(datetime(2027, 1, 6, 9, tzinfo=UTC))
    refreshed = []
    monkeypatch.setattr(deadlines, "refresh_planner_statistics", refreshed.append)
    assert team.fire_due_timers() == 1
    assert refreshed == []
    monkeypatch.setattr(deadlines, "STATISTICS_AFTER", 1)
    assert team.fire_due_timers() == 0  # nothing fired, nothing to refresh
    assessment_case(team)
    fixed_clock.set(datetime(2027, 1, 20, 9, tzinfo=UTC))
    assert team.fire_due_timers() >= 1
    assert refreshed == [team.db]
