"""Tables. Cases store only instance state; the parsed spec is stored once per process version."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Offset-aware UTC datetimes on both SQLite (which drops the zone) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


class Council(Base):
    __tablename__ = "council"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class Team(Base):
    """A team within a council; a case belongs to one team and only its members see it."""

    __tablename__ = "team"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    council_key: Mapped[str] = mapped_column(ForeignKey("council.key"), index=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class UserSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is kept here, so
    the server can end a session (sign-out, password or role change, deactivation, timeouts)."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(40), nullable=True)


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "team_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    team_key: Mapped[str] = mapped_column(ForeignKey("team.key", ondelete="CASCADE"), index=True)


class ClosureDay(Base):
    """A council's own non-working day (e.g. Christmas Eve closure) on top of bank holidays."""

    __tablename__ = "closure_day"
    __table_args__ = (UniqueConstraint("council_key", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council_key: Mapped[str] = mapped_column(ForeignKey("council.key"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(200), default="Council closure day")
    # When it was added: other processes keep the old calendar for up to CALENDAR_RECHECK_S, so
    # the deadlines they make meanwhile are recomputed once that time has passed.
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Child(Base):
    __tablename__ = "child"
    __table_args__ = (
        # Finding a child by a misspelt name: a trigram index on PostgreSQL (pg_trgm, installed
        # in `public` so every schema's queries can name it); a plain index on SQLite.
        Index(
            "ix_child_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "public.gin_trgm_ops"},
        ),
        Index("ix_child_date_of_birth", "date_of_birth"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council_key: Mapped[str] = mapped_column(ForeignKey("council.key"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


# pg_trgm before the child table's trigram index (also in migration 0005). Trusted since
# PostgreSQL 13, so a database owner may create it.
event.listen(
    Child.__table__,
    "before_create",
    DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public").execute_if(dialect="postgresql"),
)


class ProcessVersion(Base):
    """An immutable deployed version of one executable process (and the call targets it uses)."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("council_key", "process_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council_key: Mapped[str] = mapped_column(String(40), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    file_name: Mapped[str] = mapped_column(String(300))
    xml: Mapped[str] = mapped_column(Text)
    dependency_xml: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    spec_json: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    deployed_by: Mapped[str] = mapped_column(String(200))
    deployed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    comment: Mapped[str] = mapped_column(Text, default="")
    # Lifecycle: draft -> approved -> live -> retired (new cases start on the live version only).
    status: Mapped[str] = mapped_column(String(20), default="live", server_default="live")
    # Sent for approval by (a practice manager of the council): the approver must be another.
    sent_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    live_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    live_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Document control, as councils publish it for a procedure (Rochdale's table).
    doc_owner: Mapped[str] = mapped_column(String(300), default="", server_default="")
    doc_author: Mapped[str] = mapped_column(String(300), default="", server_default="")
    doc_approver: Mapped[str] = mapped_column(String(300), default="", server_default="")
    approval_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    next_review_date: Mapped[date | None] = mapped_column(Date, nullable=True)


class DraftJourney(Base):
    """A journey (scenario YAML) saved with a draft: a practice manager's copy of one of the
    council's journeys, changed for the draft, or a new one. Running the journeys and approving
    the draft use it in place of the shipped file of the same name."""

    __tablename__ = "draft_journey"
    __table_args__ = (UniqueConstraint("process_version_id", "file_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(
        ForeignKey("process_version.id", ondelete="CASCADE"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)
    saved_by: Mapped[str] = mapped_column(String(200))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Case(Base):
    __tablename__ = "case"
    __table_args__ = (
        # "My cases": a worker's open cases; the team's cases, newest first, a page at a time.
        Index("ix_case_allocated_status", "allocated_to", "status"),
        Index("ix_case_team_status_id", "team_key", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id"), index=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    council_key: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    state_json: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(Integer, default=1)
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    started_by: Mapped[str] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    close_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    attention: Mapped[str | None] = mapped_column(Text, nullable=True)
    team_key: Mapped[str | None] = mapped_column(ForeignKey("team.key"), nullable=True, index=True)
    # A training case's clock runs this far ahead of real time (engine.services.training).
    clock_offset_s: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The allocated social worker (username), set by a team manager; their lane's steps go to them.
    allocated_to: Mapped[str | None] = mapped_column(String(100), nullable=True)

    child: Mapped[Child] = relationship(lazy="joined")
    process_version: Mapped[ProcessVersion] = relationship(lazy="raise")


def _has_lz4(_ddl: Any, _target: Any, bind: Any, **_kw: Any) -> bool:
    if bind.dialect.name != "postgresql":
        return False
    return bool(
        bind.execute(
            text(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
                "WHERE name = 'default_toast_compression'"
            )
        ).scalar()
    )


# The case state (about 100 KiB after two years) is rewritten on every save; PostgreSQL's lz4
# compresses it about twice as fast as the default pglz. Migration 0003 does the same.
event.listen(
    Case.__table__,
    "after_create",
    DDL('ALTER TABLE "case" ALTER COLUMN state_json SET COMPRESSION lz4').execute_if(
        callable_=_has_lz4
    ),
)


class TaskRow(Base):
    """Projection of a READY user task, kept in step with the case state in one transaction."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_claimed_due", "claimed_by", "due_at"),
        Index("ix_task_lane_due", "council_key", "lane", "due_at"),
        # The worklist: a team's tasks in deadline order, and its due-soon and overdue ranges.
        Index("ix_task_team_due", "team_key", "due_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    council_key: Mapped[str] = mapped_column(String(40))
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(200), nullable=True)
    form: Mapped[str | None] = mapped_column(String(200), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    rule_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    team_key: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    # An escalation step: the step whose deadline was missed, and when that deadline was.
    escalates: Mapped[str | None] = mapped_column(String(200), nullable=True)
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The deadline before a manager agreed a new date (services/escalation.py); NULL if unchanged.
    original_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class TimerRow(Base):
    """Projection of a WAITING timer, so the scheduler finds due timers without loading cases."""

    __tablename__ = "timer"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(300))
    attached_to: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(20))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    rule_id: Mapped[str | None] = mapped_column(String(20), nullable=True)
    training: Mapped[bool] = mapped_column(Boolean, default=False)
    # How the deadline was made, so it can be recomputed when the calendar changes.
    expression: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    council_key: Mapped[str] = mapped_column(String(40), default="any", index=True)


class Draft(Base):
    """Answers saved but not yet submitted, per task and user."""

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("task_id", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # A draft goes when its task's row goes (completed, cancelled or the case closed).
    task_id: Mapped[str] = mapped_column(
        ForeignKey("task.id", ondelete="CASCADE", name="fk_draft_task_id_task"), index=True
    )
    username: Mapped[str] = mapped_column(String(100))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Notification(Base):
    """An in-app message: a reminder before a deadline, an escalation after it."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_read", "username", "read_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str | None] = mapped_column(String(100), nullable=True)
    team_key: Mapped[str | None] = mapped_column(String(60), nullable=True, index=True)
    lane: Mapped[str | None] = mapped_column(String(200), nullable=True)
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuditEvent(Base):
    """Append-only record of every change to a case (and every view, once the web app lands)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_case_at", "case_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    case_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    task_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    element_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    action: Mapped[str] = mapped_column(String(60))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class TrainingSnapshot(Base):
    """A training case as it was after one step of a walkthrough, so the trainer can go back."""

    __tablename__ = "training_snapshot"
    __table_args__ = (
        UniqueConstraint("case_id", "step", name="uq_training_snapshot_case_id_step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE", name="fk_training_snapshot_case_id_case"),
        index=True,
    )
    step: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(300))
    state_json: Mapped[str] = mapped_column(Text)
    clock_offset_s: Mapped[int] = mapped_column(BigInteger)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TrainingShare(Base):
    """A read-only follow-along link to a training case; the token is random and expires."""

    __tablename__ = "training_share"

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[int] = mapped_column(
        ForeignKey("case.id", ondelete="CASCADE", name="fk_training_share_case_id_case"),
        index=True,
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
