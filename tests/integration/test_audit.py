"""One audit writer: every audit_event row is shaped by engine.store.audit, whoever acts."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from engine.services import Engine
from engine.store.audit import record_audit

ROOT = Path(__file__).resolve().parent.parent.parent
WRITER = ROOT / "engine" / "store" / "audit.py"


def test_no_module_but_the_audit_writer_builds_audit_rows() -> None:
    """`AuditEvent(...)` or `insert(AuditEvent)` anywhere else is a second writer."""
    found = []
    for path in [*(ROOT / "engine").rglob("*.py"), *(ROOT / "webui").rglob("*.py")]:
        if path == WRITER:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            named = [a.id for a in node.args if isinstance(a, ast.Name)]
            if node.func.id == "AuditEvent" or (node.func.id == "insert" and "AuditEvent" in named):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_people_and_cases_write_the_same_shape_of_row(engine: Engine) -> None:
    engine.people.add_team("north", "any", "North team")
    engine.people.add_user("sw.one", "Sam One", "a long passphrase 1", "social_worker", ["north"])
    with engine.sessions() as s, s.begin():
        record_audit(s, "admin", "checked", detail={"on": date(2027, 1, 7), "why": object})
    user_added, checked = engine.audit_trail()[-2:]
    assert (user_added.action, user_added.actor, user_added.case_id) == (
        "user_added",
        "admin",
        None,
    )
    assert user_added.detail == {"username": "sw.one", "role": "social_worker", "teams": ["north"]}
    assert checked.detail == {"on": "2027-01-07", "why": str(object)}  # made JSON-safe
    assert checked.at == user_added.at  # both stamped by the engine clock
