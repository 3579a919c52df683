"""Worklist index: a team's tasks by deadline

The worklist filters, orders and pages in SQL (Engine.worklist). Every view is limited to the
user's teams, so (team_key, due_at) serves the due-soon and overdue ranges and reads one team's
tasks already in deadline order; the existing ix_task_claimed_due serves "My tasks". Building it
takes about a second on 400,000 task rows (a plain CREATE INDEX: writes to `task` wait meanwhile).

Revision ID: 0002_worklist_indexes
Revises: 0001_initial
Create Date: 2026-11-23 17:22:23.646767
"""

from collections.abc import Sequence

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002_worklist_indexes"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_task_team_due", "task", ["team_key", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_task_team_due", table_name="task")
