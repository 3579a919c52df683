"""Training cases: a trainer walks a council's pathway on the real engine, on the case's own clock.

A training case is an ordinary case with `training` set: the worklist, inbox, counts, mail and
the live timer sweep leave it out. Its clock runs `clock_offset_s` ahead of real time; every
change to it runs under that clock (`clock.using`), so its deadlines, reminders and escalations
are worked out and fire in its own time and nobody else's. After each step the state is kept
(`TrainingSnapshot`), so the trainer can go back to any earlier point or start again.

Only the trainer who started a case sees or changes it: any other case is `UnknownCase`.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engine import clock
from engine.calendar import due_date, working_days_left
from engine.clock import OffsetClock
from engine.errors import NotAllowed, UnknownCase, UnknownTask, WrongCase
from engine.services.cases import Cases
from engine.services.context import Context
from engine.services.deadlines import Deadlines
from engine.services.records import Records
from engine.store.audit import record_audit
from engine.store.db import unit_of_work
from engine.store.models import (
    AuditEvent,
    Case,
    Child,
    Draft,
    Notification,
    TaskRow,
    TimerRow,
    TrainingShare,
    TrainingSnapshot,
)
from engine.store.projection import Writes
from engine.views import CaseInfo, DiagramInfo, NewChild

TRAINING_CHILD = "Example child (training)"
SHARE_HOURS = 8  # a follow-along link lasts a training day
MAX_ADVANCE_DAYS = 400  # working days in one move: beyond any timescale in the packs


@dataclass(frozen=True)
class StepPoint:
    """A point of the walkthrough the trainer can go back to."""

    step: int
    label: str
    at: datetime  # the training clock then


@dataclass(frozen=True)
class FiredTimer:
    """A reminder, deadline or escalation that fired in the training case."""

    at: datetime
    kind: str
    name: str
    rule_id: str | None
    attached_to: str | None


@dataclass(frozen=True)
class TrainingView:
    """A training case as the walkthrough shows it."""

    case: CaseInfo
    now: datetime  # the case's clock
    steps: list[StepPoint]
    fired: list[FiredTimer]
    trainer: str


class Training:
    def __init__(self, ctx: Context, cases: Cases, deadlines: Deadlines) -> None:
        self.ctx = ctx
        self.cases = cases
        self.deadlines = deadlines

    # -- reading ------------------------------------------------------------------------------

    def list(self, trainer: str) -> list[CaseInfo]:
        """The trainer's own training cases, newest first."""
        with self.ctx.reads() as s:
            ids = s.scalars(
                select(Case.id)
                .where(Case.training.is_(True), Case.started_by == trainer)
                .order_by(Case.id.desc())
            ).all()
        return [self.cases.get_case(i) for i in ids]

    def view(self, case_id: int, trainer: str) -> TrainingView:
        offset = self._offset(case_id, trainer)
        with self.ctx.reads() as s:
            steps = [
                StepPoint(p.step, p.label, p.taken_at + timedelta(seconds=p.clock_offset_s))
                for p in s.scalars(
                    select(TrainingSnapshot)
                    .where(TrainingSnapshot.case_id == case_id)
                    .order_by(TrainingSnapshot.step)
                )
            ]
            events = s.scalars(
                select(AuditEvent)
                .where(
                    AuditEvent.case_id == case_id,
                    AuditEvent.action.like("timer_fired:%")
                    | (AuditEvent.action == "training_stepped_back"),
                )
                .order_by(AuditEvent.id)
            )
            kept: list[tuple[int, FiredTimer]] = []
            for e in events:
                if e.action == "training_stepped_back":
                    # the audit is append-only: what fired after the point gone back to is
                    # dropped here, not deleted
                    upto = e.detail.get("audit_upto")
                    kept = [
                        (i, f)
                        for i, f in kept
                        if (i <= upto if isinstance(upto, int) else f.at <= e.at)
                    ]
                    continue
                kept.append(
                    (
                        e.id,
                        FiredTimer(
                            e.at,
                            e.action.split(":", 1)[1],
                            str(e.detail.get("name") or e.element_id or ""),
                            e.detail.get("rule"),
                            e.detail.get("attached_to"),
                        ),
                    )
                )
            fired = [f for _, f in kept]
        return TrainingView(
            self.cases.get_case(case_id), self._clock(offset).now(), steps, fired, trainer
        )

    def example_answers(self, form: str | None) -> dict[str, Any]:
        """The example answers that ship with a form (forms/examples/NAME.valid.json), or {}."""
        if not form:
            return {}
        path = self.ctx.forms_dir / "examples" / f"{Path(form).stem}.valid.json"
        if not path.is_file():
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
        return dict(data) if isinstance(data, dict) else {}

    def diagram(self, case_id: int, trainer: str) -> DiagramInfo:
        """The case diagram's states, overdue by the case's own clock."""
        offset = self._offset(case_id, trainer)
        with clock.using(self._clock(offset)):
            return Records(self.ctx).case_diagram(case_id)

    def working_days_until(self, case: CaseInfo, now: datetime, due: datetime) -> int:
        """Working days from the training clock's today to a deadline (negative when passed)."""
        calendar = self.ctx.calendar(case.council)
        return working_days_left(due_date(now), due_date(due), calendar)

    # -- changing -----------------------------------------------------------------------------

    def start(self, process_id: str, council: str, trainer: str) -> CaseInfo:
        """Start a training case (synthetic child, no team) on the newest version of a process."""
        now = clock.now()
        with clock.using(self._clock(0)):
            info = self.cases.start_case(
                process_id,
                NewChild(TRAINING_CHILD),
                {"cin_start_date": now.date().isoformat()},
                trainer,
                council,
                training=True,
            )
        self._snapshot(info.id, trainer, "Started")
        return info

    def complete(
        self, case_id: int, task_id: str, data: Mapping[str, Any], trainer: str, label: str
    ) -> CaseInfo:
        """Complete a step of the training case (any lane: the trainer plays every role)."""
        offset = self._offset(case_id, trainer)
        with clock.using(self._clock(offset)):
            try:
                done = self.cases.complete_task(task_id, data, trainer, case_id=case_id)
            except WrongCase:  # a task of another case (a live one) is not there for them
                raise UnknownTask(f"no open task {task_id} in training case {case_id}") from None
            self.deadlines.fire_due_timers(case_id=case_id, actor=trainer)
        self._snapshot(case_id, trainer, label)
        return done.case

    def advance(
        self,
        case_id: int,
        trainer: str,
        *,
        working_days: int | None = None,
        to_next_deadline: bool = False,
    ) -> CaseInfo:
        """Move the case's clock on and fire what fell due; the live cases' time is untouched."""
        offset = self._offset(case_id, trainer)
        now = self._clock(offset).now()
        case = self.cases.get_case(case_id)
        if to_next_deadline:
            if not case.timers:
                raise NotAllowed("this training case has no deadline waiting; complete a step")
            target = max(now, min(t.due_at for t in case.timers))
            label = "Clock moved to the next deadline"
        else:
            if working_days is None or not 1 <= working_days <= MAX_ADVANCE_DAYS:
                raise NotAllowed(f"give a number of working days from 1 to {MAX_ADVANCE_DAYS}")
            calendar = self.ctx.calendar(case.council)
            day: date = calendar.add_working_days(now.date(), working_days)
            target = datetime.combine(day, now.timetz()).astimezone(UTC)
            label = f"Clock moved on {working_days} working day{'s' if working_days > 1 else ''}"
        offset += int((target - now).total_seconds()) + 1
        with unit_of_work(self.ctx.sessions) as s:
            s.execute(update(Case).where(Case.id == case_id).values(clock_offset_s=offset))
            record_audit(
                s,
                trainer,
                "training_clock_moved",
                case_id,
                detail={"to": target.isoformat(), "how": label},
            )
        with clock.using(self._clock(offset)):
            self.deadlines.fire_due_timers(case_id=case_id, actor=trainer)
        self._snapshot(case_id, trainer, label)
        return self.cases.get_case(case_id)

    def back_to(self, case_id: int, step: int, trainer: str) -> CaseInfo:
        """Put the case back as it was at `step`, forgetting the steps after it (audited)."""
        offset = self._offset(case_id, trainer)
        store = self.ctx.store
        with unit_of_work(self.ctx.sessions) as s:
            point = s.scalars(
                select(TrainingSnapshot).where(
                    TrainingSnapshot.case_id == case_id, TrainingSnapshot.step == step
                )
            ).first()
            if point is None:
                raise NotAllowed(f"this training case has no step {step} to go back to")
            case = store.case(s, case_id, lock=True)
            upto = _snapshot_marker(s, case_id, step)
            case.state_json, case.status, case.closed_at = point.state_json, "open", None
            workflow = store.load(s, case)
            writes = Writes()
            with clock.using(self._clock(point.clock_offset_s)):
                writes.audit(
                    clock.now(),
                    trainer,
                    "training_stepped_back",
                    case_id,
                    detail={
                        "to_step": step,
                        "label": point.label,
                        "offset_was": offset,
                        "audit_upto": upto,  # what came after it is forgotten (completed_steps)
                    },
                )
                store.save(s, case, workflow, trainer, writes)
            writes.flush(s)
            s.execute(
                update(Case)
                .where(Case.id == case_id)
                .values(clock_offset_s=point.clock_offset_s, closed_at=None)
            )
            s.execute(
                delete(TrainingSnapshot).where(
                    TrainingSnapshot.case_id == case_id, TrainingSnapshot.step > step
                )
            )
        return self.cases.get_case(case_id)

    def reset(self, case_id: int, trainer: str) -> CaseInfo:
        """Start the walkthrough again from the beginning."""
        return self.back_to(case_id, 0, trainer)

    def delete(self, case_id: int, trainer: str) -> None:
        """Delete a training case and everything it made (its audit keeps a note of it)."""
        self._offset(case_id, trainer)
        with unit_of_work(self.ctx.sessions) as s:
            child_id = s.scalar(select(Case.child_id).where(Case.id == case_id))
            s.execute(delete(TrainingSnapshot).where(TrainingSnapshot.case_id == case_id))
            s.execute(delete(TrainingShare).where(TrainingShare.case_id == case_id))
            s.execute(delete(Notification).where(Notification.case_id == case_id))
            tasks = select(TaskRow.id).where(TaskRow.case_id == case_id)
            s.execute(delete(Draft).where(Draft.task_id.in_(tasks)))
            s.execute(delete(TaskRow).where(TaskRow.case_id == case_id))
            s.execute(delete(TimerRow).where(TimerRow.case_id == case_id))
            s.execute(delete(Case).where(Case.id == case_id))
            s.execute(delete(Child).where(Child.id == child_id))
            record_audit(s, trainer, "training_case_deleted", case_id)

    # -- following along ----------------------------------------------------------------------

    def share(self, case_id: int, trainer: str, hours: int = SHARE_HOURS) -> tuple[str, datetime]:
        """A new follow-along token for the case (an id-like random token) and when it expires."""
        self._offset(case_id, trainer)
        token = secrets.token_urlsafe(24)
        expires = clock.now() + timedelta(hours=hours)
        with unit_of_work(self.ctx.sessions) as s:
            s.add(TrainingShare(token=token, case_id=case_id, expires_at=expires))
            record_audit(s, trainer, "training_shared", case_id, detail={"expires": str(expires)})
        return token, expires

    def links(self, case_id: int, trainer: str) -> list[tuple[str, datetime]]:
        """The case's follow-along tokens that have not expired, newest first."""
        self._offset(case_id, trainer)
        with self.ctx.reads() as s:
            rows = s.execute(
                select(TrainingShare.token, TrainingShare.expires_at)
                .where(TrainingShare.case_id == case_id, TrainingShare.expires_at > clock.now())
                .order_by(TrainingShare.expires_at.desc())
            ).all()
        return [(r.token, r.expires_at) for r in rows]

    def followed(self, token: str) -> TrainingView:
        """What a trainee following `token` sees; an unknown or expired token is UnknownCase."""
        with self.ctx.reads() as s:
            row = s.get(TrainingShare, token[:64]) if token else None
            trainer = None
            if row is not None and row.expires_at > clock.now():
                trainer = s.scalar(
                    select(Case.started_by).where(Case.id == row.case_id, Case.training.is_(True))
                )
        if trainer is None or row is None:
            raise UnknownCase("no such follow-along link, or it has expired")
        return self.view(row.case_id, trainer)

    # -- helpers ------------------------------------------------------------------------------

    @staticmethod
    def _clock(offset_s: int) -> OffsetClock:
        return OffsetClock(clock.current(), timedelta(seconds=offset_s))

    def _offset(self, case_id: int, trainer: str) -> int:
        """The case's clock offset; any case but this trainer's training case is unknown."""
        with self.ctx.reads() as s:
            row = s.execute(
                select(Case.clock_offset_s).where(
                    Case.id == case_id, Case.training.is_(True), Case.started_by == trainer
                )
            ).first()
        if row is None:
            raise UnknownCase(f"no training case {case_id}")
        return int(row[0] or 0)

    def _snapshot(self, case_id: int, trainer: str, label: str) -> None:
        with unit_of_work(self.ctx.sessions) as s:
            state, offset = s.execute(
                select(Case.state_json, Case.clock_offset_s).where(Case.id == case_id)
            ).one()
            step = s.scalar(
                select(func.coalesce(func.max(TrainingSnapshot.step) + 1, 0)).where(
                    TrainingSnapshot.case_id == case_id
                )
            )
            s.add(
                TrainingSnapshot(
                    case_id=case_id,
                    step=step,
                    label=label[:300],
                    state_json=state,
                    clock_offset_s=offset or 0,
                    taken_at=clock.now(),
                )
            )
            # Where the point is in the audit, so going back to it knows what came after.
            record_audit(s, trainer, "training_snapshot", case_id, detail={"step": step})


def _snapshot_marker(s: Session, case_id: int, step: int) -> int | None:
    """The audit id of the newest marker of point `step` (steps are numbered again after going
    back), or None for a point kept before markers were written."""
    markers = s.execute(
        select(AuditEvent.id, AuditEvent.detail)
        .where(AuditEvent.case_id == case_id, AuditEvent.action == "training_snapshot")
        .order_by(AuditEvent.id.desc())
    )
    return next((i for i, d in markers if (d or {}).get("step") == step), None)
