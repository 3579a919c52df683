"""Lanes are roles, enforced by the engine: claim, draft, complete and assign, every lane x role.

The expected table (tests/factories.py MAY_ACT) is written out, not read from
processes/lanes.yaml, so a change to the mapping is a deliberate change to the tests too. The
HTTP side: tests/web/test_lanes_web.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from factories import EVERY_LANE, LANE_OF_STEP, MAY_ACT, every_role
from sqlalchemy import func, select

from engine.errors import NotAllowed, NotInLane
from engine.people import ROLES
from engine.services import Engine, NewChild
from engine.store.models import AuditEvent, Draft, TaskRow

LANES_IN_PROCESSES = {
    "Social worker",
    "Team manager",
    "Chair",
    "Conference chair / IRO",
    "Business support",
}


def test_the_matrix_covers_every_lane_used_in_processes() -> None:
    import re

    root = Path(__file__).resolve().parents[2] / "processes"
    used = {
        name
        for path in root.glob("*/*.bpmn")
        for name in re.findall(r'<bpmn:lane [^>]*name="([^"]+)"', path.read_text("utf-8"))
    }
    assert used == LANES_IN_PROCESSES == set(MAY_ACT) == set(LANE_OF_STEP.values())


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.sessions() as s:
        return (
            s.scalar(select(func.count()).select_from(AuditEvent)) or 0,
            s.scalar(select(func.count()).select_from(Draft)) or 0,
            s.scalar(select(func.count()).where(TaskRow.claimed_by.is_not(None))) or 0,
        )


@pytest.mark.parametrize(
    ("council", "chair_too"),
    [("portsmouth", set()), ("teeswide", {"social_worker"})],  # Teeswide: the SW chairs
)
def test_every_lane_and_role(engine: Engine, council: str, chair_too: set[str]) -> None:
    engine.deploy([EVERY_LANE], "pm1", council=council)
    users = every_role(engine, council)
    expected = {lane: set(roles) for lane, roles in MAY_ACT.items()}
    expected["Chair"] |= chair_too
    manager = users["team_manager"]
    seen: dict[tuple[str, str], bool] = {}
    for role, user in users.items():
        case = engine.start_case("every_lane", NewChild(f"Child {role}"), {}, "pm1", team="t1")
        for task in case.tasks:
            lane = LANE_OF_STEP[task.element_id]
            allowed = role in expected[lane]
            seen[(lane, role)] = allowed
            if not allowed:
                before = counts(engine)
                for name, args in (
                    ("claim", (task.id, user)),
                    ("save_draft", (task.id, user, {})),
                    ("complete_task", (task.id, {}, user)),
                    ("assign", (task.id, user, manager)),
                ):
                    with pytest.raises(NotInLane) as refused:
                        getattr(engine, name)(*args)
                    message = str(refused.value)
                    assert task.name in message and lane in message
                    assert "Nothing has been changed" in message
                assert counts(engine) == before, (lane, role)
                assert engine.task(task.id).claimed_by is None
                continue
            engine.assign(task.id, user, manager)
            assert engine.claim(task.id, user).claimed_by == user
            engine.save_draft(task.id, user, {})
            done = engine.complete_task(task.id, {}, user)
            assert task.id not in {t.id for t in done.case.tasks}
    assert len(seen) == len(ROLES) * len(MAY_ACT)
    assert {k for k, ok in seen.items() if ok} == {
        (lane, role) for lane, roles in expected.items() for role in roles
    }


def test_a_disabled_account_may_do_nothing(engine: Engine) -> None:
    engine.deploy([EVERY_LANE], "pm1", council="portsmouth")
    users = every_role(engine, "portsmouth")
    case = engine.start_case("every_lane", NewChild("Dee"), {}, "pm1", team="t1")
    step = next(t for t in case.tasks if t.element_id == "sw_step")
    from engine.store.models import User

    with engine.sessions.begin() as s:
        s.execute(
            User.__table__.update()
            .where(User.username == users["social_worker"])
            .values(active=False)
        )
    with pytest.raises(NotAllowed, match="disabled"):
        engine.complete_task(step.id, {}, users["social_worker"])


def test_the_username_is_matched_whatever_its_case(engine: Engine) -> None:
    engine.deploy([EVERY_LANE], "pm1", council="portsmouth")
    users = every_role(engine, "portsmouth")
    case = engine.start_case("every_lane", NewChild("Eli"), {}, "pm1", team="t1")
    step = next(t for t in case.tasks if t.element_id == "tm_step")
    with pytest.raises(NotInLane):
        engine.claim(step.id, " " + users["social_worker"].upper())


def test_a_lane_no_role_may_act_in_is_refused_at_deploy(engine: Engine) -> None:
    from engine.deployment import DeploymentError

    xml = EVERY_LANE.read_text("utf-8").replace('name="Chair"', 'name="Chairperson"')
    with pytest.raises(DeploymentError) as refused:
        engine.deploy({"every_lane.bpmn": xml}, "pm1", council="portsmouth")
    (problem,) = refused.value.problems
    assert problem.element_id == "chair_step"
    assert 'the lane "Chairperson", which no role may act in' in problem.message
    assert engine.list_processes() == []
