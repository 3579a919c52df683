"""Which notifications still need emailing, taken so that two senders never send one twice.

The one place the pending-mail lock's dialect difference lives. On PostgreSQL the rows are
locked `FOR UPDATE SKIP LOCKED`: a second sender (another worker) skips what the first holds
and takes only the rest. SQLite has no row locks (SQLAlchemy leaves the clause out); its single
writer serialises senders instead, and the first to mark a row emailed wins.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.models import Notification


def take_pending_mail(s: Session) -> Sequence[Notification]:
    """Notifications not yet emailed, held by this transaction until it marks them emailed."""
    query = select(Notification).where(Notification.emailed_at.is_(None))
    if s.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return s.scalars(query).all()
