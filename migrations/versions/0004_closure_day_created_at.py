"""When a closure day was added

Other processes (the worker, other web workers) keep a council's calendar for up to 30 seconds;
deadlines they set in that time are recomputed by a later sweep, which needs to know when the
day was added. Existing rows keep NULL: their window passed long ago.

Revision ID: 0004_closure_day_created_at
Revises: 0003_draft_cascade_lz4
Create Date: 2026-11-23 19:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0004_closure_day_created_at"
down_revision: str | Sequence[str] | None = "0003_draft_cascade_lz4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("closure_day") as batch:
        batch.add_column(sa.Column("created_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("closure_day") as batch:
        batch.drop_column("created_at")
