"""A calendar-day deadline that falls on a Sunday, as a social worker reads it: the worklist and
the task page say it is not a working day and give the last working day before it."""

from __future__ import annotations

from datetime import UTC, datetime

from engine.services import Engine, NewChild

SAYS = "Not a working day: last working day before it is Thu 31 Dec 2026"


def test_a_sunday_deadline_says_so_on_the_worklist_and_the_task_page(
    client_request,
    engine: Engine,
    fixed_clock,  # noqa: ANN001
) -> None:
    # P16 (Portsmouth): a planned return home on Christmas Eve; the first planning meeting is
    # due within 10 calendar days, Sunday 3 January 2027. Portsmouth keeps such deadlines.
    fixed_clock.set(datetime(2026, 12, 24, 10, tzinfo=UTC))
    engine.deploy_pack("portsmouth", "factory")
    case = engine.start_case(
        "portsmouth_return_home_planned",
        NewChild("Ella Short"),
        {"cin_start_date": "2026-12-24"},
        "factory",
        council="portsmouth",
        team="north",
    )
    outline = next(t for t in case.tasks if t.element_id == "outline_plan")
    answers = engine.training.example_answers("chair_agreement.json")
    engine.complete_task(
        outline.id,
        {
            **answers,
            "step_down_route": "return_home_planned",
            "event_date": "2026-12-24",
            "chair_role": "conference_chair_iro",
            "first_planning_meeting_date": "2026-12-31",
        },
        "factory",
    )
    send = next(t for t in engine.get_case(case.id).tasks if t.element_id == "send_outline_plan")
    done = engine.complete_task(
        send.id,
        {"document": "outline_cin_plan", "sent_date": "2026-12-24", "recipients": ["parents"]},
        "factory",
    )
    (arrange,) = [t for t in done.next_tasks if t.element_id == "arrange_meeting"]

    sw = client_request.sign_in("sw.north")
    worklist = sw.get("/worklist/unclaimed")
    (row,) = [r for r in worklist.rows() if r["child"] == "Ella Short"]
    assert arrange.name in row["task"]
    assert SAYS in row["due"]
    assert [worklist.text_of(n) for n in worklist.testid("deadline-note")] == [SAYS]

    page = sw.get(f"/tasks/{arrange.id}")
    assert [page.text_of(n) for n in page.testid("deadline-note")] == [SAYS]
    # a working-day deadline on the same list has no such note
    assert "not a working day" not in " ".join(
        r["due"] for r in worklist.rows() if r["child"] != "Ella Short"
    )
