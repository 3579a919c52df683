"""Training cases keep their own time and the points a trainer can step back to

`case.clock_offset_s`: how far a training case's clock runs ahead of real time (0 for live
cases). `training_snapshot`: the state of a training case after each step of a walkthrough.

Revision ID: 0007_training_clock
Revises: 0006_process_version_lifecycle
Create Date: 2026-12-04 18:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_training_clock"
down_revision: str | Sequence[str] | None = "0006_process_version_lifecycle"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        batch.add_column(
            sa.Column("clock_offset_s", sa.BigInteger(), nullable=False, server_default="0")
        )
    op.create_table(
        "training_snapshot",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("case.id", ondelete="CASCADE", name="fk_training_snapshot_case_id_case"),
            nullable=False,
        ),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(300), nullable=False),
        sa.Column("state_json", sa.Text(), nullable=False),
        sa.Column("clock_offset_s", sa.BigInteger(), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("case_id", "step", name="uq_training_snapshot_case_id_step"),
    )
    op.create_index("ix_training_snapshot_case_id", "training_snapshot", ["case_id"])
    op.create_table(
        "training_share",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("case.id", ondelete="CASCADE", name="fk_training_share_case_id_case"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_training_share_case_id", "training_share", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_training_share_case_id", table_name="training_share")
    op.drop_table("training_share")
    op.drop_index("ix_training_snapshot_case_id", table_name="training_snapshot")
    op.drop_table("training_snapshot")
    with op.batch_alter_table("case") as batch:
        batch.drop_column("clock_offset_s")
