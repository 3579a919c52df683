"""Initial schema

The tables as engine/store/models.py defined them when Alembic was adopted. A database created
earlier by Base.metadata.create_all has no alembic_version table: engine.store.db.upgrade_schema
stamps it at head when its tables match the models, and refuses it otherwise.

Revision ID: 0001_initial
Revises: (none, first revision)
Create Date: 2026-11-23 16:27:33.319019
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0001_initial"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # UTCDateTime columns are plain DateTime(timezone=True): migrations never import engine code.
    # "case" is a reserved word; SQLAlchemy quotes it in every statement.
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("task_id", sa.String(length=36), nullable=True),
        sa.Column("element_id", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_case_at", "audit_event", ["case_id", "id"])
    op.create_table(
        "council",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("task_id", "username"),
    )
    op.create_index(op.f("ix_draft_task_id"), "draft", ["task_id"])
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=True),
        sa.Column("team_key", sa.String(length=60), nullable=True),
        sa.Column("lane", sa.String(length=200), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("emailed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_notification_team_key"), "notification", ["team_key"])
    op.create_index("ix_notification_user_read", "notification", ["username", "read_at"])
    op.create_table(
        "process_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_key", sa.String(length=40), nullable=False),
        sa.Column("process_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("dependency_xml", sa.JSON(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("serializer_version", sa.String(length=20), nullable=False),
        sa.Column("deployed_by", sa.String(length=200), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("council_key", "process_id", "version"),
    )
    op.create_index(op.f("ix_process_version_council_key"), "process_version", ["council_key"])
    op.create_table(
        "user_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "child",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["council_key"], ["council.key"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_child_council_key"), "child", ["council_key"])
    op.create_table(
        "closure_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("council_key", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["council_key"], ["council.key"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("council_key", "day"),
    )
    op.create_table(
        "team",
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("council_key", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["council_key"], ["council.key"]),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(op.f("ix_team_council_key"), "team", ["council_key"])
    op.create_table(
        "case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("process_version_id", sa.Integer(), nullable=False),
        sa.Column("council_key", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("serializer_version", sa.String(length=20), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("training", sa.Boolean(), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("attention", sa.Text(), nullable=True),
        sa.Column("team_key", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"]),
        sa.ForeignKeyConstraint(["process_version_id"], ["process_version.id"]),
        sa.ForeignKeyConstraint(["team_key"], ["team.key"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_case_child_id"), "case", ["child_id"])
    op.create_index(op.f("ix_case_council_key"), "case", ["council_key"])
    op.create_index(op.f("ix_case_status"), "case", ["status"])
    op.create_index(op.f("ix_case_team_key"), "case", ["team_key"])
    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("team_key", sa.String(length=60), nullable=False),
        sa.ForeignKeyConstraint(["team_key"], ["team.key"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "team_key"),
    )
    op.create_index(op.f("ix_membership_team_key"), "membership", ["team_key"])
    op.create_table(
        "task",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("council_key", sa.String(length=40), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("lane", sa.String(length=200), nullable=True),
        sa.Column("form", sa.String(length=200), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rule_id", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=200), nullable=True),
        sa.Column("training", sa.Boolean(), nullable=False),
        sa.Column("team_key", sa.String(length=60), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_task_case_id"), "task", ["case_id"])
    op.create_index("ix_task_claimed_due", "task", ["claimed_by", "due_at"])
    op.create_index("ix_task_lane_due", "task", ["council_key", "lane", "due_at"])
    op.create_index(op.f("ix_task_team_key"), "task", ["team_key"])
    op.create_table(
        "timer",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("attached_to", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rule_id", sa.String(length=20), nullable=True),
        sa.Column("training", sa.Boolean(), nullable=False),
        sa.Column("expression", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("council_key", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_timer_case_id"), "timer", ["case_id"])
    op.create_index(op.f("ix_timer_council_key"), "timer", ["council_key"])
    op.create_index(op.f("ix_timer_due_at"), "timer", ["due_at"])


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    op.drop_table("timer")
    op.drop_table("task")
    op.drop_table("membership")
    op.drop_table("case")
    op.drop_table("team")
    op.drop_table("closure_day")
    op.drop_table("child")
    op.drop_table("user_account")
    op.drop_table("process_version")
    op.drop_table("notification")
    op.drop_table("draft")
    op.drop_table("council")
    op.drop_table("audit_event")
