"""Deadlines: the timer sweep, recomputing deadlines when a council's calendar changes, closure
days, and flagging cases whose timers cannot fire for a manager's attention."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.services.context import CALENDAR_RECHECK_S, Context
from engine.services.inbox import record_fired
from engine.store.audit import record_audit
from engine.store.cases import timer_info
from engine.store.db import refresh_planner_statistics, unit_of_work
from engine.store.models import Case, ClosureDay, TimerRow
from engine.store.projection import Writes, read_projection
from engine.store.retry import is_transient, retrying
from engine.views import CaseInfo, TimerInfo

# A sweep rides out a dropped connection or a lock timeout: about 3 s of tries in all.
# The sweep looks again at what is due, so even a fault while committing is safe to retry.
SWEEP_RETRIES: dict[str, Any] = {"attempts": 6, "what": "the timer sweep", "rerunnable": True}
# A sweep refreshes the planner's statistics (see `refresh_planner_statistics`) every this many
# timers it fires, and at its end if it fired at least STATISTICS_AFTER: a day's ordinary sweeps
# fire far fewer and never pay for it; a midnight boundary at national scale does, about once a
# worker every 6 s.
STATISTICS_EVERY = 10_000
STATISTICS_AFTER = 1_000


class Batch(NamedTuple):
    """What one transaction of a sweep did."""

    fired: int  # timers fired
    progressed: int  # cases dealt with (fired, or flagged as needing attention)
    claimed: int  # cases the claim locked (some may have been fired by another worker meanwhile)


class _BatchFailed(Exception):
    """Writing a sweep batch failed (rolled back); its cases are to be fired one by one."""

    def __init__(self, case_ids: list[int], message: str) -> None:
        super().__init__(message)
        self.case_ids, self.message = case_ids, message


class Deadlines:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def timers(
        self, case_id: int | None = None, due_before: datetime | None = None
    ) -> list[TimerInfo]:
        with self.ctx.reads() as s:
            query = select(TimerRow).order_by(TimerRow.due_at, TimerRow.id)
            if case_id is not None:
                query = query.where(TimerRow.case_id == case_id)
            if due_before is not None:
                query = query.where(TimerRow.due_at <= due_before)
            return [timer_info(t) for t in s.scalars(query).all()]

    def add_closure_day(self, council: str, day: date, reason: str, by: str) -> int:
        """Add a council closure day and move the pending working-day deadlines it affects."""
        with unit_of_work(self.ctx.sessions) as s:
            self.ctx.ensure_council(s, council)
            s.add(ClosureDay(council_key=council, day=day, reason=reason, created_at=clock.now()))
            record_audit(
                s,
                by,
                "closure_day_added",
                detail={"council": council, "day": day.isoformat(), "reason": reason},
            )
        self.ctx.calendar_changed(council)
        return self.recompute_deadlines(council, by, f"closure day {day.isoformat()} added")

    # -- the sweep ----------------------------------------------------------------------------

    def fire_due_timers(
        self, case_id: int | None = None, actor: str = "scheduler", batch: int = 50
    ) -> int:
        """Fire every timer due by now (one case or all), oldest deadline first.

        Cases are claimed in batches (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so workers sharing
        a database take different batches and never fire a timer twice), and each batch is
        written set-based and committed in one transaction. A worker killed mid-batch loses
        nothing: the batch was not committed and fires on the next sweep. A case whose timer
        raises is marked as needing attention (with the error, for managers) and left out of
        later sweeps; the rest of its batch goes on. Should writing a batch fail, its cases are
        fired again one per transaction, so only the case at fault is flagged.
        """
        if case_id is None:
            retrying(lambda: self._recompute_after_new_closure_days(actor), **SWEEP_RETRIES)
        fired = 0
        unsampled = 0  # fired by this sweep since the planner's statistics were refreshed
        while True:
            try:
                # A dropped connection or a lock timeout says nothing about the cases: the
                # batch (rolled back) is tried again after a pause, and never flags a case.
                # After the last try DatabaseUnavailable ends this sweep; the next one goes on.
                done = retrying(lambda: self._fire_batch(case_id, actor, batch), **SWEEP_RETRIES)
            except _BatchFailed as failed:
                if case_id is not None:
                    with unit_of_work(self.ctx.sessions) as s:
                        self._needs_attention(s, case_id, failed.message, actor)
                    return fired
                for one in failed.case_ids:
                    fired += self.fire_due_timers(one, actor)
                continue
            fired += done.fired
            unsampled += done.fired
            ending = not done.claimed
            if unsampled >= STATISTICS_EVERY or (ending and unsampled >= STATISTICS_AFTER):
                refresh_planner_statistics(self.ctx.db)
                unsampled = 0
            # A batch can claim only cases another worker fired just before (its commit landed
            # between this claim's snapshot and its row locks): that is not the end of the due
            # timers, so the sweep goes on. It ends when the claim finds nothing at all.
            if case_id is not None or not done.claimed:
                return fired

    def _recompute_after_new_closure_days(self, actor: str) -> int:
        """Recompute the deadlines made just after a closure day was added.

        The process that adds a closure day recomputes every pending deadline at once, but other
        processes keep their calendar for up to `CALENDAR_RECHECK_S` and may make deadlines
        without the day meanwhile. Sweeps in the minute after that window recompute the timers
        started since the day was added (idempotent: a timer already right does not move).
        """
        now = clock.now()
        window = timedelta(seconds=CALENDAR_RECHECK_S)
        with self.ctx.reads() as s:
            recent = s.execute(
                select(ClosureDay.council_key, func.min(ClosureDay.created_at))
                .where(
                    ClosureDay.created_at <= now - window,
                    ClosureDay.created_at > now - 3 * window,
                )
                .group_by(ClosureDay.council_key)
            ).all()
        return sum(
            self.recompute_deadlines(
                council,
                actor,
                "closure day added while this deadline was being set",
                # from a little before: clocks of other machines, and a timer made while the
                # adding process was recomputing
                started_since=added - window,
            )
            for council, added in recent
        )

    def _fire_batch(self, case_id: int | None, actor: str, batch: int) -> Batch:
        """One transaction of a sweep: timers fired, cases dealt with, cases claimed."""
        ctx, store = self.ctx, self.store
        with unit_of_work(ctx.sessions) as s:
            cases = store.claim_due_cases(s, clock.now(), case_id, batch)
            projections = read_projection(s, [c.id for c in cases])
            writes = Writes()
            fired = progressed = 0
            for case in cases:
                now = clock.now()
                before = projections[case.id]
                if not any(t.due_at <= now for t in before.timers.values()):
                    continue  # another worker fired them between our look and our lock
                one = Writes()
                progressed += 1
                try:
                    workflow = store.load(s, case)
                    done = ctx.runtime.fire_timers(workflow)
                    saved = store.save(s, case, workflow, actor, one, before, now)
                    record_fired(
                        ctx.profile(case.council_key),
                        ctx.calendar(case.council_key, s),
                        case,
                        done,
                        actor,
                        saved,
                        one,
                        now,
                    )
                except Exception as exc:  # noqa: BLE001 - isolate the broken case
                    if is_transient(exc):
                        raise  # the database, not the case: the batch is tried again
                    self._needs_attention(s, case.id, f"a timer could not fire: {exc}", actor)
                    continue
                writes.extend(one)
                fired += len(done)
            try:
                writes.flush(s)
            except Exception as exc:  # noqa: BLE001 - rolled back; redone case by case
                if is_transient(exc):
                    raise
                raise _BatchFailed([c.id for c in cases], f"a timer could not fire: {exc}") from exc
        return Batch(fired, progressed, len(cases))

    # -- recomputing --------------------------------------------------------------------------

    def recompute_deadlines(
        self, council: str, by: str, reason: str, started_since: datetime | None = None
    ) -> int:
        """Re-work pending deadlines of a council after its calendar changed; audited per timer.

        `started_since`: only timers started from then on (those another process may have made
        with the old calendar, see `_recompute_after_new_closure_days`).

        Training cases are left alone: they run on their own clock (a trainer's scenario, days or
        weeks ahead of today), their deadlines are worked out when the trainer moves that clock,
        and a live calendar change must never write to them or their audit trail.
        """
        ctx, store = self.ctx, self.store
        ctx.calendar_changed(council)
        today = datetime.combine(clock.now().date(), time.min, UTC)
        since = started_since or datetime.min.replace(tzinfo=UTC)
        with ctx.reads() as s:
            case_ids = sorted(
                set(
                    s.scalars(
                        select(TimerRow.case_id).where(
                            TimerRow.council_key == council,
                            TimerRow.training.is_(False),
                            TimerRow.due_at >= today,
                            TimerRow.started_at >= since,
                        )
                    )
                )
            )
        changed = 0
        for case_id in case_ids:
            with unit_of_work(ctx.sessions) as s:
                case = store.case(s, case_id, lock=True)
                if case.status != "open" or case.training:
                    continue
                before = read_projection(s, [case_id])[case_id]
                workflow = store.load(s, case)
                moved = []
                for timer_id, row in before.timers.items():
                    if row.due_at < today or (row.started_at or since) < since:
                        continue
                    if not row.expression or row.started_at is None:
                        continue
                    value = ctx.runtime.recompute_timer(
                        workflow, timer_id, row.expression, row.started_at
                    )
                    if value is not None:
                        moved.append((row, value))
                if not moved:
                    continue
                now = clock.now()
                writes = Writes()
                for row, value in moved:
                    writes.audit(
                        now,
                        by,
                        "deadline_recomputed",
                        case_id,
                        row.id,
                        row.element_id,
                        detail={
                            "from": row.due_at.isoformat(),
                            "to": value,
                            "rule": row.rule_id,
                            "reason": reason,
                        },
                    )
                store.save(s, case, workflow, by, writes, before, now)
                writes.flush(s)
                changed += len(moved)
        return changed

    # -- attention ----------------------------------------------------------------------------

    @staticmethod
    def _needs_attention(s: Session, case_id: int, message: str, actor: str) -> None:
        """Flag a case for managers (in the caller's transaction); sweeps leave it alone."""
        s.execute(update(Case).where(Case.id == case_id).values(attention=message[:2000]))
        record_audit(s, actor, "case_needs_attention", case_id, detail={"error": message[:2000]})

    def clear_attention(self, case_id: int, user: str) -> CaseInfo:
        """A manager has dealt with the problem: let the sweep try the case's timers again."""
        with unit_of_work(self.ctx.sessions) as s:
            case = self.store.case(s, case_id, lock=True)
            previous, case.attention = case.attention, None
            s.execute(update(Case).where(Case.id == case_id).values(attention=None))
            record_audit(s, user, "attention_cleared", case_id, detail={"was": previous})
            return self.store.case_info(s, case)
