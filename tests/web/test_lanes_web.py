"""Lanes are roles over HTTP: a person may complete, save, claim or be given a step only in a lane
their role may act in (issue 10 item 1). The engine refuses; the pages say why, with a 403 for a
completion and nothing changed.
"""

from __future__ import annotations

import pytest
from factories import BY_ROLE, EVERY_LANE, LANE_OF_STEP, MAY_ACT, start_every_lane

from engine.services import Engine

# Who signs in for each role that has task pages (team north, Portsmouth).
PEOPLE = {role: BY_ROLE[role] for role in sorted({r for roles in MAY_ACT.values() for r in roles})}


@pytest.fixture
def lanes_world(engine: Engine) -> Engine:
    engine.deploy([EVERY_LANE], "pm.north", council="portsmouth")
    return engine


def start(engine: Engine, child: str) -> dict[str, str]:
    return start_every_lane(engine, child, "pm.north", "north", council="portsmouth")


def complete(browser, engine: Engine, task_id: str, status: int = 302):  # noqa: ANN001, ANN201
    """POST the step's form with `action=complete`, as the page would (with its revision)."""
    revision = engine.get_case(engine.task(task_id).case_id).revision
    form = {"action": "complete", "revision": str(revision)}
    return browser.post(f"/tasks/{task_id}", form, _expected_status=status)


def state(engine: Engine, task_id: str) -> tuple:
    task = engine.task(task_id)
    return task.claimed_by, len(engine.audit_trail(task.case_id)) - len(
        engine.audit_trail(task.case_id, action="viewed")
    )


@pytest.mark.parametrize("role", sorted(PEOPLE))
def test_completing_each_lanes_step_over_http(lanes_world, new_client_request, role) -> None:
    engine = lanes_world
    steps = start(engine, f"Child of {role}")
    browser = new_client_request().sign_in(PEOPLE[role])
    for element, task_id in steps.items():
        lane = LANE_OF_STEP[element]
        browser.get(f"/tasks/{task_id}")
        if role in MAY_ACT[lane]:
            complete(browser, engine, task_id)
            done = [e for e in engine.audit_trail(action="task_completed") if e.task_id == task_id]
            assert [e.actor for e in done] == [PEOPLE[role]]
            continue
        before = state(engine, task_id)
        page = complete(browser, engine, task_id, 403)
        assert f"the {lane} lane" in page.text
        assert "Nothing has been changed" in page.text
        assert state(engine, task_id) == before


def test_a_social_worker_cannot_approve_as_team_manager(lanes_world, client_request) -> None:
    """The issue's reproduction: sw signs in, opens a Team manager step, posts complete."""
    steps = start(lanes_world, "Amy Example")
    task_id = steps["tm_step"]
    sw = client_request.sign_in("sw.north")
    sw.get(f"/tasks/{task_id}")
    before = state(lanes_world, task_id)
    page = complete(sw, lanes_world, task_id, 403)
    assert "Only a Practice manager or Team manager may complete" in page.text
    page = sw.post(f"/tasks/{task_id}", {"action": "save"}, _expected_status=403)
    assert "may save a draft for" in page.text
    assert lanes_world.get_draft(task_id, "sw.north") is None
    page = sw.follow(sw.post(f"/worklist/tasks/{task_id}/claim"))
    assert "You cannot claim" in page.text
    assert state(lanes_world, task_id) == before


def test_a_manager_cannot_give_a_step_to_someone_outside_its_lane(
    lanes_world, client_request
) -> None:
    steps = start(lanes_world, "Bo Example")
    tm = client_request.sign_in("tm.north")
    before = state(lanes_world, steps["iro_step"])
    page = tm.follow(tm.post(f"/worklist/tasks/{steps['iro_step']}/reassign", {"to": "sw.north"}))
    assert "Choose who to give the task to" in page.text  # only the lane's people are offered
    assert state(lanes_world, steps["iro_step"]) == before
    tm.post(f"/worklist/tasks/{steps['iro_step']}/reassign", {"to": "iro.north"})
    assert lanes_world.task(steps["iro_step"]).claimed_by == "iro.north"
