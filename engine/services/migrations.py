"""Moving running cases onto another version of their process, keeping their deadlines.

Each case moves in its own transaction: a preview says where it would be and which deadlines
it keeps; a case that cannot move safely (engine/runtime_migration.py says why) stays on its
version and is listed with the reason. A deadline whose rule changed is recomputed from its
original start and audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import clock, lifecycle
from engine.errors import UnknownProcess
from engine.services.context import Context
from engine.store.cases import spec_key
from engine.store.db import unit_of_work
from engine.store.models import Case, ProcessVersion, TaskRow
from engine.store.projection import CaseRecord, Projection, Writes, read_projection


class Migrations:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.store = ctx.store

    def migrate_cases(
        self,
        council: str,
        process_id: str,
        by: str,
        *,
        case_ids: Iterable[int] | None = None,
        to_version: int | None = None,
        preview: bool = False,
    ) -> list[lifecycle.CaseMigration]:
        """Move open cases of a process (all on other versions, or `case_ids`) onto its live
        version (or `to_version`), keeping every deadline's original start. With `preview`,
        nothing is saved."""
        ctx = self.ctx
        with ctx.reads() as s:
            target = (
                lifecycle.find_version(s, council, process_id, to_version)
                if to_version is not None
                else lifecycle.live_version(s, council, process_id)
            )
            if target is None:
                raise UnknownProcess(f"{council}/{process_id} has no live version")
            others = select(ProcessVersion.id).where(
                ProcessVersion.council_key == council,
                ProcessVersion.process_id == process_id,
                ProcessVersion.id != target.id,
            )
            query = select(Case.id).where(
                Case.status == "open", Case.process_version_id.in_(others)
            )
            if case_ids is not None:
                query = query.where(Case.id.in_(list(case_ids)))
            ids = sorted(s.scalars(query).all())
            spec, subs = ctx.runtime.spec_from_json(spec_key(target), target.spec_json)
            target_id, target_version = target.id, target.version
        results = []
        for case_id in ids:
            with unit_of_work(ctx.sessions) as s:
                case = self.store.case(s, case_id, lock=not preview)
                from_version = self.store.version(s, case.process_version_id).version
                before = read_projection(s, [case_id])[case_id]
                workflow = self.store.load(s, case)
                started = {i: t.started_at for i, t in before.timers.items() if t.started_at}
                moved = ctx.runtime.migrate(workflow, spec, subs, started)
                result = lifecycle.CaseMigration(
                    case_id,
                    from_version,
                    target_version,
                    moved.reasons,
                    moved.steps,
                    moved.timers,
                    done=moved.ok and not preview,
                )
                results.append(result)
                if preview or not moved.ok:
                    s.rollback()
                    continue
                self._save(s, case, workflow, by, before, target_id, result)
        return results

    def _save(
        self,
        s: Session,
        case: CaseRecord,
        workflow: Any,
        by: str,
        before: Projection,
        target_id: int,
        result: lifecycle.CaseMigration,
    ) -> None:
        now = clock.now()
        writes = Writes()
        writes.audit(
            now,
            by,
            "case_migrated",
            case.id,
            detail={
                "from_version": result.from_version,
                "to_version": result.to_version,
                "timers": {
                    t.element_id: {"before": t.before, "after": t.after} for t in result.timers
                },
            },
        )
        for timer in result.timers:
            if timer.recomputed:
                writes.audit(
                    now,
                    by,
                    "deadline_recomputed",
                    case.id,
                    timer.task_id,
                    timer.element_id,
                    detail={
                        "from": timer.before,
                        "to": timer.after,
                        "rule": f"{timer.expression_before} -> {timer.expression_after}",
                        "reason": f"migrated to version {result.to_version}: counted from the "
                        "timer's original start",
                    },
                )
        self.store.save(s, case, workflow, by, writes, before, now)
        writes.flush(s)
        s.execute(update(Case).where(Case.id == case.id).values(process_version_id=target_id))
        rules = self.ctx.profile(case.council_key).rule_for_key
        for task in self.ctx.runtime.snapshot(workflow, rules).user_tasks:
            s.execute(
                update(TaskRow)
                .where(TaskRow.id == task.task_id)
                .values(name=task.name, lane=task.lane, form=task.form)
            )
