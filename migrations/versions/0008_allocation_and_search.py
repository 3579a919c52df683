"""Allocated social worker on a case; finding a child by name (trigram) or date of birth;
escalation steps (the step whose deadline was missed, when, and its original deadline)

`case.allocated_to` is the username of the case's allocated social worker (NULL: unallocated,
the team's pool). On PostgreSQL the child's name gets a GIN trigram index (pg_trgm, created in
`public` when missing) so a misspelt name is found quickly among many councils' children.

Revision ID: 0008_allocation_and_search
Revises: 0007_training_clock
Create Date: 2026-12-04 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_allocation_and_search"
down_revision: str | Sequence[str] | None = "0007_training_clock"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(sa.Column("allocated_to", sa.String(100), nullable=True))
        batch.create_index("ix_case_allocated_status", ["allocated_to", "status"])
        batch.create_index("ix_case_team_status_id", ["team_key", "status", "id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        op.create_index(
            "ix_child_name_trgm",
            "child",
            ["name"],
            postgresql_using="gin",
            postgresql_ops={"name": "public.gin_trgm_ops"},
        )
    else:
        op.create_index("ix_child_name_trgm", "child", ["name"])
    op.create_index("ix_child_date_of_birth", "child", ["date_of_birth"])
    with op.batch_alter_table("task") as batch:
        batch.add_column(sa.Column("escalates", sa.String(200), nullable=True))
        batch.add_column(sa.Column("missed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("original_due_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("task") as batch:
        batch.drop_column("original_due_at")
        batch.drop_column("missed_at")
        batch.drop_column("escalates")
    op.drop_index("ix_child_date_of_birth", table_name="child")
    op.drop_index("ix_child_name_trgm", table_name="child")
    with op.batch_alter_table("case") as batch:
        batch.drop_index("ix_case_team_status_id")
        batch.drop_index("ix_case_allocated_status")
        batch.drop_column("allocated_to")
