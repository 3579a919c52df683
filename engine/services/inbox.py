"""The inbox: notifications people see in the app and get by email, and the timer notices that
make them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import clock
from engine.calendar import WorkingCalendar
from engine.errors import NotFound
from engine.lanes import inbox_lanes
from engine.notify import Mail, Sender, sender_from_config
from engine.runtime import TimerView, timer_view
from engine.services.context import Context
from engine.store.cases import Saved
from engine.store.db import unit_of_work
from engine.store.mail import take_pending_mail
from engine.store.models import Membership, Notification, User
from engine.store.projection import CaseRecord, Projection, Writes
from engine.timescales import CouncilProfile
from engine.views import NotificationInfo
from engine.wording import describe_deadline


class Inbox:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def notifications(
        self, username: str, teams: Iterable[str], role: str, unread_only: bool = False
    ) -> list[NotificationInfo]:
        """A user's inbox: addressed to them, or to their team's lane for their role."""
        lane = inbox_lanes(self.ctx.processes_dir).get(role)
        with self.ctx.reads() as s:
            addressed = Notification.username == username
            if lane:
                addressed |= (
                    Notification.username.is_(None)
                    & Notification.team_key.in_(list(teams))
                    & (Notification.lane == lane)
                )
            query = select(Notification).where(addressed).order_by(Notification.id.desc())
            if unread_only:
                query = query.where(Notification.read_at.is_(None))
            return [
                NotificationInfo(n.id, n.case_id, n.kind, n.message, n.created_at, n.read_at)
                for n in s.scalars(query)
            ]

    def mark_notification_read(
        self, notification_id: int, username: str, teams: Iterable[str], role: str
    ) -> None:
        visible = {n.id for n in self.notifications(username, teams, role)}
        if notification_id not in visible:
            raise NotFound(f"no notification {notification_id}")
        with unit_of_work(self.ctx.sessions) as s:
            row = s.get(Notification, notification_id)
            if row is not None and row.read_at is None:
                row.read_at = clock.now()

    def send_pending_mail(self, sender: Sender | None = None) -> int:
        """Email notifications not yet emailed, to users with an address; returns the count."""
        sender = sender or sender_from_config()
        sent = 0
        own_lanes = inbox_lanes(self.ctx.processes_dir)
        with unit_of_work(self.ctx.sessions) as s:
            for note in take_pending_mail(s):
                for address in _addresses(s, note, own_lanes):
                    sender.send(Mail(address, f"cinflow: {note.kind}", note.message))
                    sent += 1
                note.emailed_at = clock.now()
        return sent


def _addresses(s: Session, note: Notification, own_lanes: Mapping[str, str]) -> list[str]:
    """Who a notification is emailed to: its person, or its team's people whose own lane
    (processes/lanes.yaml `inbox:`) it was sent to."""
    query = select(User.email).where(User.active.is_(True), User.email.is_not(None))
    if note.username:
        query = query.where(User.username == note.username)
    elif note.team_key:
        roles = [r for r, lane in own_lanes.items() if lane == note.lane] or ["social_worker"]
        query = query.join(Membership, Membership.user_id == User.id).where(
            Membership.team_key == note.team_key, User.role.in_(roles)
        )
    else:
        return []
    return [e for e in s.scalars(query) if e]


def record_fired(
    profile: CouncilProfile,
    calendar: WorkingCalendar,
    case: CaseRecord,
    fired: list[Any],
    actor: str,
    saved: Saved,
    writes: Writes,
    now: datetime,
) -> None:
    """Audit every timer that fired in this change and tell the people it concerns."""
    for task in fired:
        timer = timer_view(task, profile.rule_for_key)
        if timer is None:
            continue
        timer = replace(timer, rule_id=profile.own_rules(timer.rule_id))
        note = _timer_notification(
            case, timer, saved.projection, now, calendar, _step_name(task, timer)
        )
        if note is not None and not case.training:  # a training case tells nobody
            writes.notifications.append(note)
        writes.audit(
            now,
            actor,
            f"timer_fired:{timer.kind}",
            case.id,
            timer.task_id,
            timer.element_id,
            detail={
                "name": timer.name,
                "due_at": timer.due_at.isoformat(),
                "rule": timer.rule_id,
                "attached_to": timer.attached_to,
            },
        )


def _step_name(task: Any, timer: TimerView) -> str:
    """The name people know the timed step by (a call activity's too), never its element id."""
    specs = getattr(getattr(task.workflow, "spec", None), "task_specs", {}) or {}
    spec = specs.get(timer.attached_to or "")
    return getattr(spec, "bpmn_name", None) or timer.name or "a step"


def _timer_notification(
    case: CaseRecord,
    timer: TimerView,
    projection: Projection,
    now: datetime,
    calendar: WorkingCalendar,
    step_name: str = "",
) -> dict[str, Any] | None:
    """Reminders go to whoever holds the task; a passed deadline goes to the team manager."""
    if timer.kind not in ("reminder", "deadline"):
        return None
    task = next((t for t in projection.tasks.values() if t.element_id == timer.attached_to), None)
    step = task.name if task else (step_name or timer.name or "a step")
    due = task.due_at if task and task.due_at else timer.due_at
    rule = f" ({timer.rule_id})" if timer.rule_id else ""
    # the deadline in the words every page uses, as they stand when the message is sent
    when = describe_deadline(due, now, calendar).summary
    if timer.kind == "reminder":
        message = f"Reminder: “{step}” for {case.child_name} is due {when}{rule}."
        username = task.claimed_by if task else None
        lane = None if task and task.claimed_by else (task.lane if task else None)
    else:
        message = (
            f"Deadline passed: “{step}” for {case.child_name} was due {when}{rule}. "
            "It needs a team manager's attention."
        )
        username, lane = None, "Team manager"
    return {
        "team_key": case.team_key,
        "case_id": case.id,
        "kind": timer.kind,
        "message": message,
        "created_at": now,
        "username": username,
        "lane": lane,
        "read_at": None,
        "emailed_at": None,
    }
