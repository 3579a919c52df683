"""The one audit writer: every `audit_event` row is shaped by `audit_row`.

A change that writes set-based gathers its rows in `projection.Writes` (sent by its `flush`);
everything else writes its row at once with `record_audit`, in the caller's transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine import clock
from engine.store.models import AuditEvent


def audit_row(
    at: datetime,
    actor: str,
    action: str,
    case_id: int | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An `audit_event` row: who did what to which case and task, when, with what data."""
    return {
        "at": at,
        "actor": actor,
        "case_id": case_id,
        "task_id": task_id,
        "element_id": element_id,
        "action": action,
        "detail": dict(detail or {}),
    }


def record_audit(
    s: Session,
    actor: str,
    action: str,
    case_id: int | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Write one audit event now, in the caller's transaction (`detail` made JSON-safe)."""
    row = audit_row(
        at or clock.now(), actor, action, case_id, task_id, element_id, jsonable(detail or {})
    )
    s.execute(insert(AuditEvent), [row])


def jsonable(value: Any) -> Any:
    """`value` as JSON would give it back: dates as ISO text, anything else odd as its str."""
    return json.loads(
        json.dumps(value, default=lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    )
