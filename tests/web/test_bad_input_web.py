"""Hostile input through the web forms and URLs: a clear 4xx, never a 500, nothing changed.

The HTTP side of issue 11's fuzz test (the engine API and CLI: tests/integration/
test_bad_input.py): NUL and over-long answers, a 5 MB draft, ids that are not ids.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from engine.services import Engine

ROOT = Path(__file__).resolve().parents[2]
CONSENT = json.loads((ROOT / "forms" / "examples" / "consent.valid.json").read_text())
TABLES = ("case", "task", "timer", "draft", "child", "notification")


def fingerprint(engine: Engine) -> str:
    """Cases, their projection, drafts and the audit of changes (page views are allowed)."""
    digest = hashlib.sha256()
    with engine.db.connect() as conn:
        for table in TABLES:
            rows = conn.execute(text(f'SELECT * FROM "{table}" ORDER BY 1')).all()
            digest.update(repr(rows).encode("utf-8", "surrogatepass"))
        audit = conn.execute(
            text("SELECT * FROM audit_event WHERE action NOT IN ('viewed', 'signed_in') ORDER BY 1")
        ).all()
        digest.update(repr(audit).encode())
    return digest.hexdigest()


def consent_fields(**override: str) -> dict[str, Any]:
    day, month, year = "4", "3", "2025"
    return {
        "given_by_name": CONSENT["given_by_name"],
        "given_by_relationship": CONSENT["given_by_relationship"],
        "consent_for": CONSENT["consent_for"],
        "consent_method": CONSENT["consent_method"],
        "consent_date-day": day,
        "consent_date-month": month,
        "consent_date-year": year,
        "consent_given": "yes",
        **override,
    }


@pytest.fixture
def sw(client_request):  # noqa: ANN001, ANN201
    return client_request.sign_in("sw.north")


def consent_task(engine: Engine) -> Any:
    return next(t for t in engine.tasks(teams=["north"]) if t.element_id == "record_consent")


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"given_by_name": "Karen\x00Whitlow"}, "NUL"),
        ({"given_by_name": "K" * 5000}, "200 characters or fewer"),
        ({"given_by_name": "K" * 300_000}, "The answers are more than 256 KiB"),
    ],
)
def test_bad_answers_are_a_400_naming_the_field(engine, sw, fields, says) -> None:
    task = consent_task(engine)
    before = fingerprint(engine)
    revision = str(engine.get_case(task.case_id).revision)
    page = sw.post(
        f"/tasks/{task.id}",
        {**consent_fields(**fields), "action": "complete", "revision": revision},
        _expected_status=400,
    )
    assert says in page.error_summary()
    assert fingerprint(engine) == before


@pytest.mark.parametrize(
    ("size", "says"),
    [(201, "200 characters or fewer"), (300_000, "The answers are more than 256 KiB")],
)
def test_a_draft_over_the_forms_limits_is_refused(engine, sw, size, says) -> None:
    task = consent_task(engine)
    before = fingerprint(engine)
    page = sw.post(
        f"/tasks/{task.id}",
        {**consent_fields(given_by_name="K" * size), "action": "save"},
        _expected_status=400,
    )
    assert says in page.error_summary()
    assert engine.get_draft(task.id, "sw.north") is None
    assert fingerprint(engine) == before


@pytest.mark.parametrize("action", ["complete", "save"])
def test_a_body_over_a_megabyte_is_refused_before_it_is_read(engine, sw, action) -> None:
    task = consent_task(engine)
    before = fingerprint(engine)
    fields = {**consent_fields(given_by_name="K" * 5_000_000), "action": action}
    sw.post(f"/tasks/{task.id}", fields, _expected_status=413)
    assert fingerprint(engine) == before


@pytest.mark.parametrize(
    "path",
    [
        "/tasks/not-a-task",
        "/tasks/%00",
        "/tasks/" + "%ff" * 36,
        "/tasks/12",
        "/cases/abc",
        "/cases/99999999999999999999999",
        "/cases/0",
    ],
)
def test_ids_that_are_not_ids_are_404(engine, sw, path) -> None:
    before = fingerprint(engine)
    sw.get(path, _expected_status=404)
    if path.startswith("/tasks/"):
        sw.post(path, {"action": "complete"}, _expected_status=404)
    assert fingerprint(engine) == before
