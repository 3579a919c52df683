"""Process versions with a lifecycle and document control

A version is draft, approved, live or retired, with who and when it was approved and went live,
and the document-control fields councils publish for a procedure (owner, author, approver,
approval date, next review date). Existing rows: the newest version of each process is live
(new cases started on it), older ones are retired.

Revision ID: 0006_process_version_lifecycle
Revises: 0005_user_session
Create Date: 2026-12-04 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006_process_version_lifecycle"
down_revision: str | Sequence[str] | None = "0005_user_session"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("process_version") as batch:
        batch.add_column(sa.Column("status", sa.String(20), nullable=False, server_default="live"))
        batch.add_column(sa.Column("approved_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("approved_at", WHEN, nullable=True))
        batch.add_column(sa.Column("live_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("live_at", WHEN, nullable=True))
        batch.add_column(sa.Column("retired_at", WHEN, nullable=True))
        for name in ("doc_owner", "doc_author", "doc_approver"):
            batch.add_column(sa.Column(name, sa.String(300), nullable=False, server_default=""))
        batch.add_column(sa.Column("approval_date", sa.Date(), nullable=True))
        batch.add_column(sa.Column("next_review_date", sa.Date(), nullable=True))
    op.execute(
        "UPDATE process_version SET status = 'retired' WHERE version < ("
        "SELECT MAX(newer.version) FROM process_version AS newer "
        "WHERE newer.council_key = process_version.council_key "
        "AND newer.process_id = process_version.process_id)"
    )
    op.execute("UPDATE process_version SET live_by = deployed_by, live_at = deployed_at")


def downgrade() -> None:
    with op.batch_alter_table("process_version") as batch:
        for name in (
            "next_review_date",
            "approval_date",
            "doc_approver",
            "doc_author",
            "doc_owner",
            "retired_at",
            "live_at",
            "live_by",
            "approved_at",
            "approved_by",
            "status",
        ):
            batch.drop_column(name)
