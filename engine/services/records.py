"""What people read about a case: one task with its guidance, the diagram with its progress,
the process XML, and the audit trail (including who viewed what)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import bpmn_files, clock, forms
from engine.errors import UnknownCase, UnknownTask
from engine.returns.prefill import answers_for_step, census_fields
from engine.services.context import Context
from engine.store.audit import record_audit
from engine.store.cases import completed_step, completed_steps, task_info
from engine.store.db import unit_of_work
from engine.store.models import AuditEvent, Case, Child, Draft, ProcessVersion, TaskRow
from engine.views import (
    AuditInfo,
    CalledDiagram,
    CompletedStep,
    DiagramInfo,
    TaskInfo,
    TaskPage,
)
from engine.wording import rolled_back_from


class Records:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def task(self, task_id: str, teams: Iterable[str] | None = None) -> TaskInfo:
        """One open task with its guidance; with `teams`, another team's task is UnknownTask."""
        with self.ctx.reads() as s:
            row = self.store.task_row(s, task_id, teams)
            name = s.scalar(
                select(Child.name)
                .join(Case, Case.child_id == Child.id)
                .where(Case.id == row.case_id)
            )
            return replace(
                task_info(row, name or "", self._documentation(s, row)),
                preset=self._preset(s, row),
            )

    def task_page(
        self, task_id: str, user: str, teams: Iterable[str], *, record_view: bool = True
    ) -> TaskPage:
        """The task page's data in one transaction: the open task with its guidance, its case,
        the user's draft (without one, when showing it: the census answers the case already
        knows), and (on showing it) the view in the audit trail. A step completed
        already raises TaskAlreadyCompleted carrying who completed it."""
        teams = tuple(teams)
        with unit_of_work(self.ctx.sessions) as s:
            row = self.store.task_row(s, task_id, teams)
            case = self.store.case(s, row.case_id)
            if case.team_key not in teams:
                raise UnknownTask(f"no open task {task_id}")
            info = self.store.case_info(s, case)
            spec, subs = self.store.specs(s, case.process_version_id)
            guidance = self._guidance(case.council_key, spec, subs, row.element_id)
            task = replace(
                task_info(row, case.child_name, guidance),
                preset=self.ctx.runtime.preset(spec, subs, row.element_id),
            )
            draft = s.scalar(
                select(Draft.data).where(Draft.task_id == task_id, Draft.username == user)
            )
            if row.due_at is not None and self.ctx.profile(case.council_key).rolls_back:
                task = replace(task, due_moved_from=self._moved_from(s, case.id, row.due_at))
            known = {}
            if draft is None and record_view and task.form:
                # the census questions open with what the case already knows
                asked = census_fields(forms.load_form(task.form, self.ctx.forms_dir, task.council))
                fields = [name for name in asked if name not in task.preset]
                known = answers_for_step(s, case.id, fields, task.created_at)
            if record_view:
                record_audit(s, user, "viewed", case.id, detail={"page": "task"})
            draft = dict(draft) if draft is not None else None
            return TaskPage(task, info, draft, known)

    @staticmethod
    def _moved_from(s: Session, case_id: int, due_at: datetime) -> date | None:
        """The day roll_back moved this deadline from: the case's few `deadline_rolled_back`
        events (only councils that roll back write any)."""
        events = s.scalars(
            select(AuditEvent).where(
                AuditEvent.case_id == case_id, AuditEvent.action == "deadline_rolled_back"
            )
        )
        return rolled_back_from(events, due_at)

    def completed_step(
        self, task_id: str, teams: Iterable[str] | None = None, case_id: int | None = None
    ) -> CompletedStep:
        """Who completed a step and when (the "already completed" page); another team's step,
        or one never completed, is UnknownTask."""
        with self.ctx.reads() as s:
            done = completed_step(s, task_id, teams, case_id)
        if done is None:
            raise UnknownTask(f"no completed task {task_id}")
        return done

    def case_process_xml(
        self, case_id: int, teams: Iterable[str] | None = None, call: str = ""
    ) -> str:
        """The BPMN of the version a case runs on, without loading the workflow; with `call`
        (call activity ids from the top joined with "/"), the file of the process it calls, as
        deployed with that version. An unknown call is UnknownCase."""
        with self.ctx.reads() as s:
            case = self.store.case(s, case_id)
            if teams is not None and case.team_key not in set(teams):
                raise UnknownCase(f"no case {case_id}")
            row = s.execute(
                select(ProcessVersion.xml, ProcessVersion.dependency_xml).where(
                    ProcessVersion.id == case.process_version_id
                )
            ).first()
        if row is None:
            return ""
        xml = row.xml or ""
        files = [xml, *(row.dependency_xml or {}).values()]
        for activity in filter(None, call.split("/")):
            called = bpmn_files.called_process(xml, activity)
            xml = next((f for f in files if called and bpmn_files.defines(f, called)), "")
            if not xml:
                raise UnknownCase(f"case {case_id} has no call {call}")
        return xml

    def case_diagram(self, case_id: int, teams: Iterable[str] | None = None) -> DiagramInfo:
        """The case's top-level diagram and which elements are done, current and overdue."""
        with self.ctx.reads() as s:
            case = self.store.case(s, case_id)
            if teams is not None and case.team_key not in set(teams):
                raise UnknownCase(f"no case {case_id}")
            version = s.get(ProcessVersion, case.process_version_id)
            assert version is not None
            reading = self.store.reading(s, case)
            marks = reading.marks
            steps = completed_steps(s, case_id)
            now = clock.now()
            overdue_tasks = [
                t
                for t in s.scalars(select(TaskRow).where(TaskRow.case_id == case_id))
                if t.due_at is not None and t.due_at < now
            ]
            overdue: dict[str, set[str]] = {}
            for t in overdue_tasks:
                for view, element in marks.placed.get(t.id, {"": t.element_id}).items():
                    overdue.setdefault(view, set()).add(element)
            # The state forgets a finished call's steps (pruning); the audit never does.
            done: dict[str, list[str]] = {}
            for step in steps:
                done.setdefault(step.view, []).append(step.element_id)
            calls = {
                key: CalledDiagram(
                    v.process_id,
                    v.name,
                    _with(v.completed, done.get(key, []), v.current + v.holds),
                    v.current,
                    sorted(overdue.get(key, ())),
                    v.holds,
                    v.names,
                )
                for key, v in marks.calls.items()
            }
            for key in done.keys() - calls.keys() - {""}:  # a call that has finished
                name = marks.names.get(key, "") if "/" not in key else ""
                calls[key] = CalledDiagram("", name, _with([], done[key], []), [], [], [])
            return DiagramInfo(
                process_id=version.process_id,
                version=version.version,
                xml=version.xml,
                completed=_with(marks.completed, done.get("", []), marks.current + marks.holds),
                current=marks.current,
                overdue=sorted(overdue.get("", ())),
                names=marks.names,
                holds=marks.holds,
                steps_done=steps,
                calls=calls,
                next_steps=reading.next_steps,
            )

    def audit_trail(self, case_id: int | None = None, action: str | None = None) -> list[AuditInfo]:
        with self.ctx.reads() as s:
            query = select(AuditEvent).order_by(AuditEvent.id)
            if case_id is not None:
                query = query.where(AuditEvent.case_id == case_id)
            if action is not None:
                query = query.where(AuditEvent.action == action)
            return [
                AuditInfo(
                    e.id, e.at, e.actor, e.case_id, e.task_id, e.element_id, e.action, e.detail
                )
                for e in s.scalars(query)
            ]

    def record_view(self, case_id: int, user: str, what: str = "case") -> None:
        with unit_of_work(self.ctx.sessions) as s:
            record_audit(s, user, "viewed", case_id, detail={"page": what})

    def _preset(self, s: Session, row: TaskRow) -> dict[str, Any]:
        """The answers a step gives itself (its `answers` property), from the cached specs."""
        version_id = s.scalar(select(Case.process_version_id).where(Case.id == row.case_id))
        if version_id is None:
            return {}
        spec, subs = self.store.specs(s, version_id)
        return self.ctx.runtime.preset(spec, subs, row.element_id)

    def _documentation(self, s: Session, row: TaskRow) -> str:
        """A step's guidance from the cached specs of its case's version (no version row read
        unless the specs are not cached yet)."""
        case = s.execute(
            select(Case.process_version_id, Case.council_key).where(Case.id == row.case_id)
        ).first()
        if case is None:
            return ""
        spec, subs = self.store.specs(s, case.process_version_id)
        return self._guidance(case.council_key, spec, subs, row.element_id)

    def _guidance(self, council: str, spec: Any, subs: Any, element_id: str) -> str:
        """What the council's worker reads on a step: its own words on a shared block's step."""
        process_id, text = self.ctx.runtime.documentation(spec, subs, element_id)
        return self.ctx.profile(council).own_guidance(process_id, element_id, text)


def _with(completed: list[str], more: list[str], active: list[str]) -> list[str]:
    """`completed` and then the elements of `more` not in it, leaving out what is active again
    (a step done before and open once more is current, not done)."""
    skip = {"", *active}
    return [e for e in dict.fromkeys([*completed, *more]) if e not in skip]
