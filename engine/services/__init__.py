"""Use cases: one function, one transaction. The web app, CLI, worker and scenarios call these.

`Engine` is the one object they hold: a thin facade that keeps the public method names and
hands each call to the module that owns the concern:

- `deployments`: deploy process versions and council packs, list them;
- `cases`: start, complete a step, message, cancel, claim/assign, move team, drafts;
- `worklist`: the read model of open tasks (filters in one `TaskQuery`, pages, counts);
- `deadlines`: the timer sweep, recomputing deadlines, closure days, attention;
- `inbox`: notifications and mail, and the notices timers make;
- `records`: one task with guidance, the case diagram, process XML, the audit trail;
- `journeys` (`Engine.journeys`): a draft's journeys run on scratch copies, journeys saved
  with a draft, sending a draft for approval;
- `task_submit`: the task page's POST (save a draft or complete, with what the page needs);
- `casework` (`Engine.casework`): allocation, finding a child, My/team cases, the front door's
  routes, escalation decisions.

Reads, and changes made in one transaction, are tried once more after a transient database
fault (a dropped connection: the first statement on each pooled connection after a server
restart or `pg_terminate_backend`), unless it struck while committing (`engine.store.retry`).

They share a `Context` (database, runtime, calendars, and `engine.store.cases.CaseStore`,
which loads and saves a case with its projection). Each method opens a unit of work, changes
state, projection and audit together and commits, or changes nothing and raises an
`engine.errors` type.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from engine import bpmn_diff, forms, lifecycle
from engine.calendar import WorkingCalendar
from engine.notify import Sender
from engine.people import People, TeamInfo
from engine.runtime import Runtime
from engine.services.cases import Cases
from engine.services.casework import Casework
from engine.services.context import ANY_COUNCIL, CALENDAR_RECHECK_S, Context
from engine.services.deadlines import Deadlines
from engine.services.deployments import Deployments
from engine.services.inbox import Inbox
from engine.services.journeys import Journeys
from engine.services.library import Library
from engine.services.migrations import Migrations
from engine.services.records import Records
from engine.services.task_submit import ReadAnswers, submit_task
from engine.services.training import Training
from engine.services.worklist import TaskQuery, Worklist
from engine.store.db import create_schema
from engine.store.retry import retry_transient
from engine.timescales import PROCESSES_DIR, CouncilProfile
from engine.views import (
    AuditInfo,
    CaseInfo,
    ClaimerCounts,
    CompletedStep,
    Completion,
    DiagramInfo,
    NewChild,
    NotificationInfo,
    ProcessInfo,
    TaskInfo,
    TaskPage,
    TaskSubmission,
    TimerInfo,
    WorklistPage,
)
from engine.wording import handed_on

__all__ = [
    "ANY_COUNCIL",
    "CALENDAR_RECHECK_S",
    "ClaimerCounts",
    "Engine",
    "NewChild",
    "TaskQuery",
    "WorklistPage",
]


class Engine:
    """The engine's public face. Build once per process; safe to share across threads."""

    def __init__(
        self,
        url: str | None = None,
        *,
        forms_dir: Path = forms.FORMS_DIR,
        processes_dir: Path = PROCESSES_DIR,
        runtime: Runtime | None = None,
    ) -> None:
        self.context = ctx = Context(
            url, forms_dir=forms_dir, processes_dir=processes_dir, runtime=runtime
        )
        self.db, self.sessions, self.runtime = ctx.db, ctx.sessions, ctx.runtime
        self.store = ctx.store
        self.forms_dir, self.processes_dir = forms_dir, processes_dir
        self.people = People(self.sessions, ctx.reads)
        self.deployments = Deployments(ctx)
        self.cases = Cases(ctx)
        self.work = Worklist(ctx)
        self.deadlines = Deadlines(ctx)
        self.inbox = Inbox(ctx)
        self.records = Records(ctx)
        self.migrations = Migrations(ctx)
        self.training = Training(ctx, self.cases, self.deadlines)
        self.library = Library(ctx)
        # Allocation, finding a child, case lists, the front door and escalation decisions.
        self.casework = Casework(self.sessions, ctx.reads)
        # Testing a draft: its journeys on scratch copies, saved copies, sending for approval.
        self.journeys = Journeys(ctx)

    # -- set-up -------------------------------------------------------------------------------

    def init_db(self) -> None:
        create_schema(self.db)

    def dispose(self) -> None:
        self.db.dispose()

    def profile(self, council: str) -> CouncilProfile:
        return self.context.profile(council)

    def calendar(self, council: str, session: Any = None) -> WorkingCalendar:
        return self.context.calendar(council, session)

    def handed_on(self, council: str, data: Mapping[str, Any]) -> list[str]:
        """Dates the worker hands on when the case leaves children's social care (P12)."""
        scales = self.profile(council).timescales.values()
        return handed_on(scales, dict(data), self.context.functions(council)["deadline"])

    # -- deployments --------------------------------------------------------------------------

    def deploy(
        self,
        files: Mapping[str, str | bytes] | Iterable[Path],
        deployed_by: str,
        comment: str = "",
        council: str | None = None,
    ) -> list[ProcessInfo]:
        return self.deployments.deploy(files, deployed_by, comment, council)

    def deploy_pack(self, council: str, deployed_by: str, comment: str = "") -> list[ProcessInfo]:
        return self.deployments.deploy_pack(council, deployed_by, comment)

    @retry_transient()
    def list_processes(
        self, council: str | None = None, all_versions: bool = False
    ) -> list[ProcessInfo]:
        return self.deployments.list_processes(council, all_versions)

    # -- the version lifecycle (see engine/lifecycle.py) --------------------------------------

    def process_library(self, council: str) -> list[lifecycle.LibraryEntry]:
        return self.deployments.library(council)

    def send_drafts(
        self, council: str, by: str, comment: str = "", versions: Mapping[str, int] | None = None
    ) -> list[lifecycle.VersionInfo]:
        return self.deployments.send_drafts(council, by, comment, versions)

    def approve_drafts(
        self, council: str, by: str, comment: str = "", versions: Mapping[str, int] | None = None
    ) -> list[lifecycle.VersionInfo]:
        return self.deployments.approve_drafts(council, by, comment, versions)

    def go_live(
        self, council: str, by: str, comment: str = "", versions: Mapping[str, int] | None = None
    ) -> list[lifecycle.VersionInfo]:
        return self.deployments.go_live(council, by, comment, versions)

    def set_document_control(
        self, council: str, process_id: str, version: int, by: str, **fields: Any
    ) -> lifecycle.VersionInfo:
        return self.deployments.set_document_control(council, process_id, version, by, **fields)

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
        return self.migrations.migrate_cases(
            council, process_id, by, case_ids=case_ids, to_version=to_version, preview=preview
        )

    def conventions(self, council: str) -> tuple[dict[str, Any], dict[str, Any]]:
        return self.deployments.conventions(council)

    def version_xml(self, council: str, process_id: str, version: int) -> str:
        return self.deployments.version_xml(council, process_id, version)

    def compare_versions(
        self, council: str, process_id: str, old: int, new: int
    ) -> bpmn_diff.VersionDiff:
        return self.deployments.compare_versions(council, process_id, old, new)

    def export_files(self, council: str) -> dict[str, str]:
        return self.deployments.export_files(council)

    def new_process_xml(self, council: str, process_id: str, name: str) -> str:
        return self.deployments.new_process_xml(council, process_id, name)

    def modeler_choices(self, council: str) -> dict[str, Any]:
        return self.deployments.modeler_choices(council)

    def save_process_draft(
        self, council: str, process_id: str, xml: str | bytes, by: str, comment: str = ""
    ) -> tuple[ProcessInfo, bool]:
        return self.deployments.save_process_draft(council, process_id, xml, by, comment)

    # -- cases --------------------------------------------------------------------------------

    @retry_transient()
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
        return self.cases.start_case(
            process_id,
            child,
            data,
            started_by,
            council,
            training=training,
            team=team,
            allocate_to=allocate_to,
        )

    @retry_transient()
    def get_case(
        self, case_id: int, with_data: bool = False, teams: Iterable[str] | None = None
    ) -> CaseInfo:
        return self.cases.get_case(case_id, with_data, teams)

    @retry_transient()
    def list_cases(
        self,
        open_only: bool = True,
        include_training: bool = False,
        teams: Iterable[str] | None = None,
    ) -> list[CaseInfo]:
        return self.cases.list_cases(open_only, include_training, teams)

    @retry_transient()
    def claim(self, task_id: str, user: str) -> TaskInfo:
        return self.cases.claim(task_id, user)

    @retry_transient()
    def unclaim(self, task_id: str, user: str, *, as_manager: bool = False) -> TaskInfo:
        return self.cases.unclaim(task_id, user, as_manager=as_manager)

    @retry_transient()
    def assign(self, task_id: str, to_user: str, by: str) -> TaskInfo:
        return self.cases.assign(task_id, to_user, by)

    @retry_transient()
    def complete_task(
        self,
        task_id: str,
        data: Mapping[str, Any],
        user: str,
        *,
        case_id: int | None = None,
        revision: int | None = None,
    ) -> Completion:
        return self.cases.complete_task(task_id, data, user, case_id=case_id, revision=revision)

    @retry_transient()
    def send_message(
        self, case_id: int, name: str, payload: Mapping[str, Any], user: str
    ) -> CaseInfo:
        return self.cases.send_message(case_id, name, payload, user)

    @retry_transient()
    def cancel_case(self, case_id: int, reason: str, user: str) -> CaseInfo:
        return self.cases.cancel_case(case_id, reason, user)

    @retry_transient()
    def move_case_to_team(self, case_id: int, team: str, by: str) -> CaseInfo:
        return self.cases.move_case_to_team(case_id, team, by)

    @retry_transient()
    def save_draft(self, task_id: str, user: str, data: Mapping[str, Any]) -> None:
        self.cases.save_draft(task_id, user, data)

    @retry_transient()
    def get_draft(self, task_id: str, user: str) -> dict[str, Any] | None:
        return self.cases.get_draft(task_id, user)

    @retry_transient()
    def draft_saved_at(self, task_id: str, user: str) -> datetime | None:
        return self.cases.draft_saved_at(task_id, user)

    # -- the worklist (filters: the fields of `TaskQuery`) -------------------------------------

    @retry_transient()
    def tasks(self, **filters: Any) -> list[TaskInfo]:
        """Open user tasks, soonest deadline first, unpaged: one case's, or a scenario's."""
        return self.work.tasks(TaskQuery(**filters))

    @retry_transient()
    def worklist(self, *, page: int = 1, per_page: int = 25, **filters: Any) -> WorklistPage:
        """One page of open tasks matching `TaskQuery(**filters)`; see `Worklist.page`."""
        return self.work.page(TaskQuery(**filters), page, per_page)

    @retry_transient()
    def worklist_teams(self, teams: Iterable[str]) -> list[TeamInfo]:
        return self.work.teams(teams)

    @retry_transient()
    def worklist_display_names(self, usernames: Iterable[str]) -> dict[str, str]:
        return self.work.display_names(usernames)

    @retry_transient()
    def worklist_task_names(self, **filters: Any) -> list[str]:
        return self.work.task_names(TaskQuery(**filters))

    @retry_transient()
    def worklist_counts(self, *, due_soon_days: int = 2, **filters: Any) -> list[ClaimerCounts]:
        return self.work.counts(TaskQuery(**filters), due_soon_days)

    # -- deadlines ----------------------------------------------------------------------------

    @retry_transient()
    def timers(
        self, case_id: int | None = None, due_before: datetime | None = None
    ) -> list[TimerInfo]:
        return self.deadlines.timers(case_id, due_before)

    def add_closure_day(self, council: str, day: date, reason: str, by: str) -> int:
        return self.deadlines.add_closure_day(council, day, reason, by)

    def fire_due_timers(
        self, case_id: int | None = None, actor: str = "scheduler", batch: int = 50
    ) -> int:
        return self.deadlines.fire_due_timers(case_id, actor, batch)

    def recompute_deadlines(
        self, council: str, by: str, reason: str, started_since: datetime | None = None
    ) -> int:
        return self.deadlines.recompute_deadlines(council, by, reason, started_since)

    @retry_transient()
    def clear_attention(self, case_id: int, user: str) -> CaseInfo:
        return self.deadlines.clear_attention(case_id, user)

    # -- inbox --------------------------------------------------------------------------------

    @retry_transient()
    def notifications(
        self, username: str, teams: Iterable[str], role: str, unread_only: bool = False
    ) -> list[NotificationInfo]:
        return self.inbox.notifications(username, teams, role, unread_only)

    def mark_notification_read(
        self, notification_id: int, username: str, teams: Iterable[str], role: str
    ) -> None:
        self.inbox.mark_notification_read(notification_id, username, teams, role)

    def send_pending_mail(self, sender: Sender | None = None) -> int:
        return self.inbox.send_pending_mail(sender)

    # -- records ------------------------------------------------------------------------------

    @retry_transient()
    def task(self, task_id: str, teams: Iterable[str] | None = None) -> TaskInfo:
        return self.records.task(task_id, teams)

    @retry_transient()
    def task_page(
        self, task_id: str, user: str, teams: Iterable[str], *, record_view: bool = True
    ) -> TaskPage:
        return self.records.task_page(task_id, user, teams, record_view=record_view)

    def submit_task(
        self,
        task_id: str,
        user: str,
        teams: Iterable[str],
        action: str,
        read_answers: ReadAnswers,
        *,
        revision: int | None = None,
        case_id: int | None = None,
    ) -> TaskSubmission:
        """The task page's POST: save a draft or complete the step (engine/services/task_submit;
        its reads and its change are each retried as the methods it calls are)."""
        return submit_task(
            self, task_id, user, teams, action, read_answers, revision=revision, case_id=case_id
        )

    @retry_transient()
    def completed_step(
        self, task_id: str, teams: Iterable[str] | None = None, case_id: int | None = None
    ) -> CompletedStep:
        return self.records.completed_step(task_id, teams, case_id)

    @retry_transient()
    def case_process_xml(
        self, case_id: int, teams: Iterable[str] | None = None, call: str = ""
    ) -> str:
        return self.records.case_process_xml(case_id, teams, call)

    @retry_transient()
    def case_diagram(self, case_id: int, teams: Iterable[str] | None = None) -> DiagramInfo:
        return self.records.case_diagram(case_id, teams)

    @retry_transient()
    def audit_trail(self, case_id: int | None = None, action: str | None = None) -> list[AuditInfo]:
        return self.records.audit_trail(case_id, action)

    @retry_transient()
    def record_view(self, case_id: int, user: str, what: str = "case") -> None:
        self.records.record_view(case_id, user, what)
