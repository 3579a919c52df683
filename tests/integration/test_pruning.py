"""Pruning keeps a case's stored state small: a large answer is stored once, step after step.

That pruning loses nothing a running case needs is checked with every journey, in
tests/integration/test_scenarios.py (pruned on PostgreSQL, compared step by step with the same
journey unpruned on SQLite).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from factories import stored_state_size

from engine.services import Engine, NewChild

ROOT = Path(__file__).resolve().parents[2]


def test_stored_state_does_not_multiply_a_large_answer(tmp_path: Path, fixed_clock: Any) -> None:
    """A long invitee list entered in a call activity, carried into a nested one and out again,
    and a long meeting record entered two levels down: each is stored once, step after step."""
    engine = Engine(f"sqlite:///{tmp_path}/big.db")
    engine.init_db()
    try:
        engine.deploy([ROOT / "processes/common"], "test", "test")
        case = engine.start_case("common_planning_meeting", NewChild("Sam Sample"), {}, "sw")
        base = stored_state_size(engine, case.id)
        # as long as the forms allow: 50 people (maxItems), names of 200 characters (maxLength)
        people = [{"name": f"Person {i:03d} " + "x" * 189, "role": "Agency"} for i in range(50)]
        arrangement = {
            "meeting_type": "planning",
            "meeting_date": "2026-11-23",
            "venue": "Family centre",
            "invitees": people,
            "cancelled": False,
        }
        record = {
            "meeting_type": "planning",
            "meeting_date": "2026-11-23",
            "chair_name": "Ruth Okafor",
            "chair_role": "senior_practitioner",
            "attendees": people[::-1],
            "child_attended": False,
            "childs_views": "Sam said mornings are calmer.",
            "parents_views": "Karen agrees with the plan.",
            "decisions": "Plan agreed.",
        }
        plan = json.loads((ROOT / "forms/examples/cin_plan.valid.json").read_text())
        entered = 0
        for answer in (arrangement, record, plan):
            (task,) = engine.get_case(case.id).tasks
            case = engine.complete_task(task.id, answer, "sw").case
            entered += len(json.dumps(answer))
            assert entered > 20_000 or answer is arrangement
            assert stored_state_size(engine, case.id) - base <= 1.1 * entered + 16_000
        assert case.status == "completed"
        assert engine.get_case(case.id, with_data=True).data["meeting_record"] == record
    finally:
        engine.dispose()
