"""Changing cases: start, complete a step, message, cancel, claim and assign, move team, drafts.

Each method is one transaction: it locks the case, runs it on, and saves state, projection and
audit together, or changes nothing and raises an `engine.errors` type.

Over 500 lines (about 510): the case-changing use cases share one locking, running and saving
pattern; split across modules, each would have to repeat it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from engine import clock, forms, holders, payloads
from engine.errors import (
    Conflict,
    DiagramError,
    MessageNotExpected,
    NotAllowed,
    UnknownCase,
    UnknownProcess,
    UnknownTask,
    WrongCase,
)
from engine.lanes import active_role, check_lane, check_role, person_key
from engine.runtime import SERIALIZER_VERSION, preset_answers
from engine.services.casework import allocate
from engine.services.context import Context
from engine.services.inbox import record_fired
from engine.store.audit import jsonable, record_audit
from engine.store.cases import spec_key, task_info
from engine.store.db import unit_of_work
from engine.store.models import Case, Child, Draft, Notification, ProcessVersion, TaskRow
from engine.store.projection import Projection, Writes, case_query, case_record, read_projection
from engine.views import CaseInfo, Completion, NewChild, TaskInfo


class Cases:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def _record_fired(
        self, s: Any, case: Any, fired: Any, actor: str, saved: Any, writes: Writes, now: datetime
    ) -> None:
        """The timers a change fired: audited, and their people told (engine/services/inbox)."""
        council = case.council_key
        calendar = self.ctx.calendar(council, s)
        record_fired(self.ctx.profile(council), calendar, case, fired, actor, saved, writes, now)

    def start_case(
        self,
        process_id: str,
        child: NewChild,
        data: Mapping[str, Any] | None,
        started_by: str,
        council: str | None = None,
        training: bool = False,
        team: str | None = None,
        allocate_to: str | None = None,
    ) -> CaseInfo:
        """Start the live version of a process for a child; the case stays on that version.

        `allocate_to`: the team's social worker a manager allocates the case to as it starts
        (the front door), in the same transaction: a refused allocation starts nothing.
        """
        ctx, store = self.ctx, self.store
        started_by = payloads.user_name(started_by)
        payloads.text(child.name, "child's name")
        payloads.text(process_id, "process id")
        data = payloads.start_data(data)
        with unit_of_work(ctx.sessions) as s:
            query = select(ProcessVersion).where(
                ProcessVersion.process_id == process_id, ProcessVersion.status == "live"
            )
            if council:
                query = query.where(ProcessVersion.council_key == council)
            version = s.scalars(query.order_by(ProcessVersion.version.desc()).limit(1)).first()
            if version is None:
                where = f" for {council}" if council else ""
                raise UnknownProcess(f'no deployed process "{process_id}"{where}; deploy it first')
            council = version.council_key
            spec, subs = ctx.runtime.spec_from_json(spec_key(version), version.spec_json)
            # A clock that counts from an event (transfer to the team, a conference, a return
            # home) reads a date given at start: the start form makes it required and a real
            # date, so a missing or malformed one is refused, never guessed. Other starting
            # facts ride along.
            start_form = ctx.runtime.start_form(spec)
            if start_form:
                asked = forms.load_form(start_form, council=council).get("properties", {})
                given = {k: v for k, v in (data or {}).items() if k in asked}
                forms.validate(start_form, given, council=council)
            ctx.ensure_council(s, council)
            now = clock.now()
            child_row = Child(
                council_key=council,
                name=child.name,
                date_of_birth=child.date_of_birth,
                created_at=now,
            )
            s.add(child_row)
            s.flush()
            case = Case(
                child_id=child_row.id,
                process_version_id=version.id,
                council_key=council,
                status="open",
                state_json="{}",
                serializer_version=SERIALIZER_VERSION,
                revision=0,
                training=training,
                started_by=started_by,
                opened_at=now,
                team_key=team,
            )
            s.add(case)
            s.flush()
            initial = {
                **dict(data or {}),
                "case": {
                    "id": case.id,
                    "council": council,
                    "opened": now.isoformat(),
                    **dict((data or {}).get("case", {})),
                },
                "child": {
                    "name": child.name,
                    "date_of_birth": child.date_of_birth.isoformat()
                    if child.date_of_birth
                    else None,
                },
            }
            workflow = ctx.runtime.new_workflow(spec, subs, initial, ctx.functions(council))
            fired = ctx.runtime.run(workflow)
            record_audit(
                s,
                started_by,
                "case_started",
                case.id,
                detail={
                    "process_id": process_id,
                    "version": version.version,
                    "child": child.name,
                    "data": dict(data or {}),
                },
            )
            record = store.case(s, case.id)
            writes = Writes()
            saved = store.save(s, record, workflow, started_by, writes, Projection(), now)
            self._record_fired(s, record, fired, started_by, saved, writes, now)
            writes.flush(s)
            if allocate_to is None:
                return store.case_info(s, record, saved.projection)
            allocate(s, case.id, payloads.user_name(allocate_to), started_by)
            return store.case_info(s, store.case(s, case.id))

    def get_case(
        self, case_id: int, with_data: bool = False, teams: Iterable[str] | None = None
    ) -> CaseInfo:
        """One case; with `teams`, a case outside them is UnknownCase (never its data)."""
        with self.ctx.reads() as s:
            case = self.store.case(s, case_id)
            if teams is not None and case.team_key not in set(teams):
                raise UnknownCase(f"no case {case_id}")
            info = self.store.case_info(s, case)
            if with_data:
                info = replace(info, data=self.store.reading(s, case).data)
            return info

    def list_cases(
        self,
        open_only: bool = True,
        include_training: bool = False,
        teams: Iterable[str] | None = None,
    ) -> list[CaseInfo]:
        """Cases, oldest first; `teams` limits them to those teams' cases (a user's view)."""
        with self.ctx.reads() as s:
            query = case_query().order_by(Case.id)
            if teams is not None:
                query = query.where(Case.team_key.in_(list(teams)))
            if open_only:
                query = query.where(Case.status == "open")
            if not include_training:
                query = query.where(Case.training.is_(False))
            cases = [case_record(row) for row in s.execute(query)]
            projections = read_projection(s, [c.id for c in cases])
            return [self.store.case_info(s, c, projections[c.id]) for c in cases]

    # -- who holds a task ---------------------------------------------------------------------

    def claim(self, task_id: str, user: str) -> TaskInfo:
        """Take a task. Serialised with completions and hand-overs by the case lock: the
        loser hears who has it or who completed it, and when."""
        task_id, user = payloads.task_id(task_id), payloads.user_name(user)
        with unit_of_work(self.ctx.sessions) as s:
            row = holders.lock_task(s, task_id)
            if row.claimed_by == user:
                return task_info(row)
            self._check_lane(s, user, row, "claim")
            if row.claimed_by is not None:
                raise holders.held(s, row)
            won = s.execute(
                update(TaskRow)
                .where(TaskRow.id == task_id, TaskRow.claimed_by.is_(None))
                .values(claimed_by=user)
            ).rowcount
            if not won:  # SQLite (no row lock): someone was quicker between our read and now
                fresh = s.get(TaskRow, task_id, populate_existing=True)
                raise holders.held(s, fresh) if fresh is not None else holders.gone(s, task_id)
            record_audit(s, user, "task_claimed", row.case_id, task_id, row.element_id)
            s.refresh(row)
            return task_info(row)

    def unclaim(self, task_id: str, user: str, *, as_manager: bool = False) -> TaskInfo:
        task_id, user = payloads.task_id(task_id), payloads.user_name(user)
        with unit_of_work(self.ctx.sessions) as s:
            row = holders.lock_task(s, task_id)
            if row.claimed_by is None:
                return task_info(row)
            if row.claimed_by != user and not as_manager:
                raise NotAllowed(f'"{row.name}" is claimed by {row.claimed_by}, not by you')
            previous = row.claimed_by
            row.claimed_by = None
            record_audit(
                s,
                user,
                "task_unclaimed",
                row.case_id,
                task_id,
                row.element_id,
                detail={"previously": previous},
            )
            return task_info(row)

    def assign(self, task_id: str, to_user: str, by: str) -> TaskInfo:
        """A manager gives a task to a worker, whoever holds it now (if the worker's role may
        act in the task's lane)."""
        task_id = payloads.task_id(task_id)
        to_user, by = payloads.user_name(to_user, "assignee"), payloads.user_name(by)
        with unit_of_work(self.ctx.sessions) as s:
            row = holders.lock_task(s, task_id)
            self._check_lane(s, to_user, row, "be given")
            previous, row.claimed_by = row.claimed_by, to_user
            record_audit(
                s,
                by,
                "task_assigned",
                row.case_id,
                task_id,
                row.element_id,
                detail={"to": to_user, "previously": previous},
            )
            return task_info(row)

    def _check_lane(self, s: Any, user: str, row: Any, doing: str) -> None:
        """Refuse unless `user`'s role may act in the task's lane (lanes are roles)."""
        lanes = self.ctx.profile(row.council_key).lanes
        check_lane(s, lanes, user, row.lane, row.name, doing, training=row.training)

    # -- running a case on --------------------------------------------------------------------

    def complete_task(
        self,
        task_id: str,
        data: Mapping[str, Any],
        user: str,
        *,
        case_id: int | None = None,
        revision: int | None = None,
    ) -> Completion:
        """Validate the answers against the task's form, run the case on, save, project, audit.

        One read (the locked case with its projection and the completer's role) and one
        statement per kind of row changed (on PostgreSQL, one statement in all).
        A diagram that cannot go on (a condition or timer failing on this case's data) changes
        nothing, the step stays open, and the refusal is audited.
        """
        try:
            return self._complete_task(task_id, data, user, case_id, revision)
        except DiagramError as stuck:
            self._audit_refusal(stuck, user, "complete", task_id=task_id)
            raise

    def _complete_task(
        self,
        task_id: str,
        data: Mapping[str, Any],
        user: str,
        case_id: int | None,
        revision: int | None,
    ) -> Completion:
        ctx, store = self.ctx, self.store
        task_id, user = payloads.task_id(task_id), payloads.user_name(user)
        data = payloads.answers(data)
        if case_id is not None:
            case_id = payloads.case_id(case_id)
        with unit_of_work(ctx.sessions) as s:
            case, before, person = store.lock_case_of_task(s, task_id, person_key(user))
            row = before.tasks.get(task_id)
            if row is None:
                store.task_row(s, task_id)  # raises why: completed meanwhile, or never open
                raise UnknownTask(f"no open task {task_id}")
            if case_id is not None and row.case_id != case_id:
                raise WrongCase(f"task {task_id} does not belong to case {case_id}")
            if revision is not None and revision != case.revision:
                raise Conflict(
                    f"case {case.id} was changed by someone else (revision {case.revision}, "
                    f"you had {revision}); reload it and try again"
                )
            lanes = ctx.profile(row.council_key).lanes
            role = active_role(person, user)
            check_role(role, lanes, user, row.lane, row.name, "complete", training=row.training)
            if row.claimed_by not in (None, user):
                raise NotAllowed(
                    f'"{row.name}" is claimed by {row.claimed_by}; ask them or a manager'
                )
            workflow = store.load(s, case)
            task = ctx.runtime.find_user_task(workflow, task_id, row.element_id)
            if task is None:
                raise UnknownTask(f"task {task_id} is not open in case {case.id}")
            # The step's own answers (e.g. which plan it is) are not asked: they are given.
            data = {**data, **preset_answers(task.task_spec)}
            if row.form:
                forms.validate(row.form, data, ctx.forms_dir, row.council_key)
            view = ctx.runtime.view_key(workflow, task)  # which drawing shows the step
            fired = ctx.runtime.complete_user_task(workflow, task, forms.form_key(row.form), data)
            self._within_budget(workflow, case.id)
            now = clock.now()
            writes = Writes()
            if row.claimed_by is None:
                # Completing a step nobody held claims it first, in the same audited act.
                writes.audit(
                    now, user, "task_claimed", case.id, task_id, row.element_id, {"on": "complete"}
                )
            writes.audit(
                now,
                user,
                "task_completed",
                case.id,
                task_id,
                row.element_id,
                detail={
                    "name": row.name,
                    "form": row.form,
                    "data": jsonable(data),
                    "view": view,
                },
            )
            saved = store.save(s, case, workflow, user, writes, before, now)
            self._record_fired(s, case, fired, user, saved, writes, now)
            # The holder as read under the lock, checked again as the case is written: a
            # claim or hand-over committed while this waited for the lock refuses it.
            writes.check_holder(task_id, row.claimed_by)
            try:
                writes.flush(s)  # the task's drafts go with its row (ON DELETE CASCADE)
            except Conflict:
                fresh = s.get(TaskRow, task_id, populate_existing=True)
                if fresh is not None and fresh.claimed_by not in (row.claimed_by, user):
                    raise holders.held(s, fresh) from None
                raise
            info = store.case_info(s, case, saved.projection)
            return Completion(info, [t for t in info.tasks if t.id not in saved.previous_task_ids])

    def _within_budget(self, workflow: Any, case_id: int) -> None:
        """Refuse a change that would take the case's data over its budget (TooLarge)."""
        data = self.ctx.runtime.case_data(workflow)
        payloads.check_case_data_size(payloads.json_size(data), case_id)

    def send_message(
        self, case_id: int, name: str, payload: Mapping[str, Any], user: str
    ) -> CaseInfo:
        """Something happened outside the diagram (family moved, child turned 18...).

        The payload is checked (an object of plain JSON, shallow and small) before the case is
        even read: a case must never hold what it cannot load again. A diagram that cannot go
        on changes nothing and the refusal is audited."""
        try:
            return self._send_message(case_id, name, payload, user)
        except DiagramError as stuck:
            self._audit_refusal(stuck, user, "message", case_id=case_id, message=name)
            raise

    def _audit_refusal(
        self,
        stuck: DiagramError,
        user: str,
        doing: str,
        *,
        task_id: str | None = None,
        case_id: int | None = None,
        message: str | None = None,
    ) -> None:
        """Record, in a transaction of its own (the change was rolled back), that the diagram
        refused: managers see which element and expression to fix."""
        with unit_of_work(self.ctx.sessions) as s:
            if case_id is None and task_id is not None:
                case_id = s.scalar(select(TaskRow.case_id).where(TaskRow.id == task_id))
            detail = {
                "refused": doing,
                "problem": stuck.problem,
                "process_id": stuck.process_id,
                "element_name": stuck.element_name,
                "expression": stuck.expression,
            }
            if message is not None:
                detail["message"] = message
            record_audit(s, user, "diagram_refused", case_id, task_id, stuck.element_id, detail)

    def _send_message(
        self, case_id: int, name: str, payload: Mapping[str, Any], user: str
    ) -> CaseInfo:
        ctx, store = self.ctx, self.store
        case_id, user = payloads.case_id(case_id), payloads.user_name(user)
        name = payloads.text(name, "message name")
        payload = payloads.message_payload(payload)
        with unit_of_work(ctx.sessions) as s:
            case = store.open_case(s, case_id)
            workflow = store.load(s, case)
            fired = ctx.runtime.send_message(workflow, name, payload)
            if fired is None:
                waiting = ", ".join(ctx.runtime.waiting_messages(workflow)) or "none"
                raise MessageNotExpected(
                    f'case {case_id} is not waiting for "{name}" (waiting for: {waiting})'
                )
            self._within_budget(workflow, case.id)
            now = clock.now()
            writes = Writes()
            writes.audit(
                now,
                user,
                "message_received",
                case.id,
                detail={"message": name, "payload": jsonable(payload)},
            )
            saved = store.save(s, case, workflow, user, writes, now=now)
            self._record_fired(s, case, fired, user, saved, writes, now)
            writes.flush(s)
            return store.case_info(s, case, saved.projection)

    def cancel_case(self, case_id: int, reason: str, user: str) -> CaseInfo:
        case_id, user = payloads.case_id(case_id), payloads.user_name(user)
        reason = payloads.text(reason, "reason", 2000)
        if not reason.strip():
            raise NotAllowed("give a reason for cancelling the case")
        store = self.store
        with unit_of_work(self.ctx.sessions) as s:
            case = store.open_case(s, case_id)
            workflow = store.load(s, case)
            self.ctx.runtime.cancel(workflow)
            now = clock.now()
            case.status, case.closed_at, case.close_reason = "cancelled", now, reason
            writes = Writes()
            writes.audit(now, user, "case_cancelled", case.id, detail={"reason": reason})
            saved = store.save(s, case, workflow, user, writes, now=now)
            writes.flush(s)
            return store.case_info(s, case, saved.projection)

    def move_case_to_team(self, case_id: int, team: str, by: str) -> CaseInfo:
        """Give a case (and its open tasks) to another team; only that team sees it from now."""
        with unit_of_work(self.ctx.sessions) as s:
            case = self.store.case(s, case_id, lock=True)
            previous, case.team_key = case.team_key, team
            s.execute(update(Case).where(Case.id == case_id).values(team_key=team))
            s.execute(update(TaskRow).where(TaskRow.case_id == case_id).values(team_key=team))
            # Messages to the team about this case go with it (a reminder made before the move
            # reaches the team that holds the case now); messages to a person stay theirs.
            s.execute(
                update(Notification)
                .where(Notification.case_id == case_id, Notification.username.is_(None))
                .values(team_key=team)
            )
            record_audit(s, by, "case_moved_team", case_id, detail={"from": previous, "to": team})
            return self.store.case_info(s, case)

    # -- drafts -------------------------------------------------------------------------------

    def save_draft(self, task_id: str, user: str, data: Mapping[str, Any]) -> None:
        """Keep answers typed so far: a draft may be half done, but not beyond the form's
        limits (field lengths, list sizes, the answers budget), and only by someone whose role
        may act in the task's lane."""
        task_id, user = payloads.task_id(task_id), payloads.user_name(user)
        data = payloads.answers(data)
        with unit_of_work(self.ctx.sessions) as s:
            row = self.store.task_row(s, task_id)
            self._check_lane(s, user, row, "save a draft for")
            if row.form:
                forms.validate_draft(row.form, data, self.ctx.forms_dir, row.council_key)
            draft = s.scalars(
                select(Draft).where(Draft.task_id == task_id, Draft.username == user)
            ).first()
            if draft is None:
                s.add(
                    Draft(task_id=task_id, username=user, data=jsonable(data), saved_at=clock.now())
                )
            else:
                draft.data, draft.saved_at = jsonable(data), clock.now()
            record_audit(s, user, "draft_saved", row.case_id, task_id, row.element_id)

    def get_draft(self, task_id: str, user: str) -> dict[str, Any] | None:
        with self.ctx.reads() as s:
            draft = s.scalars(
                select(Draft).where(Draft.task_id == task_id, Draft.username == user)
            ).first()
            return dict(draft.data) if draft else None

    def draft_saved_at(self, task_id: str, user: str) -> datetime | None:
        with self.ctx.reads() as s:
            return s.scalar(
                select(Draft.saved_at).where(Draft.task_id == task_id, Draft.username == user)
            )
