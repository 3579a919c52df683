"""The inbox: reminders reach the worker, passed deadlines the team manager, each team its own."""

from __future__ import annotations

from datetime import timedelta

from engine.clock import FixedClock


def test_passed_deadlines_reach_the_team_manager_and_can_be_marked_read(
    engine,
    fixed_clock: FixedClock,
    new_client_request,  # noqa: ANN001
) -> None:
    fixed_clock.advance(timedelta(days=90))
    assert engine.fire_due_timers() > 0
    tm = new_client_request().sign_in("tm.north")
    page = tm.get("/inbox")
    items = page.testid("inbox")[0]
    text = page.text_of(items)
    assert "Deadline passed" in text
    assert "<script>" not in page.response.get_data(as_text=True).split('data-testid="inbox"')[1]
    assert "new)" in page.text_of(page.xpath("//nav")[0])
    note_id = next(n.id for n in engine.notifications("tm.north", ["north"], "team_manager"))
    tm.post(f"/inbox/{note_id}/read", _expected_redirect="/inbox")
    assert all(
        n.read_at
        for n in engine.notifications("tm.north", ["north"], "team_manager")
        if n.id == note_id
    )


def test_another_teams_notification_is_not_found(
    engine,
    fixed_clock: FixedClock,
    new_client_request,  # noqa: ANN001
) -> None:
    fixed_clock.advance(timedelta(days=90))
    engine.fire_due_timers()
    south = engine.notifications("x", ["south"], "team_manager")
    assert south, "the world's south team case should have escalated"
    tm = new_client_request().sign_in("tm.north")
    assert south[0].message not in tm.get("/inbox").response.get_data(as_text=True)
    tm.post(f"/inbox/{south[0].id}/read", _expected_status=404)
    tm.post("/inbox/999999/read", _expected_status=404)
    assert engine.notifications("x", ["south"], "team_manager")[0].read_at is None


def test_an_empty_inbox_says_so(new_client_request) -> None:  # noqa: ANN001
    page = new_client_request().sign_in("sw.north").get("/inbox")
    assert page.testid("inbox-empty")
