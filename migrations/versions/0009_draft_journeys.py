"""Journeys saved with a draft, and who sent a draft for approval

`draft_journey` holds a practice manager's copy of a council journey (scenario YAML), changed for
one draft process version; running the journeys and approving that draft use it in place of the
shipped file of the same name. `process_version.sent_by/sent_at`: who sent the draft for
approval (the approver must be someone else).

Revision ID: 0009_draft_journeys
Revises: 0008_allocation_and_search
Create Date: 2026-12-05 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_draft_journeys"
down_revision: str | Sequence[str] | None = "0008_allocation_and_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
# UTCDateTime columns are plain DateTime(timezone=True): migrations never import engine code.
WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("process_version") as batch:
        batch.add_column(sa.Column("sent_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("sent_at", WHEN, nullable=True))
    op.create_table(
        "draft_journey",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "process_version_id",
            sa.Integer,
            sa.ForeignKey("process_version.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("file_name", sa.String(80), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("saved_by", sa.String(200), nullable=False),
        sa.Column("saved_at", WHEN, nullable=False),
        sa.UniqueConstraint("process_version_id", "file_name"),
    )
    op.create_index("ix_draft_journey_process_version_id", "draft_journey", ["process_version_id"])


def downgrade() -> None:
    op.drop_index("ix_draft_journey_process_version_id", table_name="draft_journey")
    op.drop_table("draft_journey")
    with op.batch_alter_table("process_version") as batch:
        batch.drop_column("sent_at")
        batch.drop_column("sent_by")
